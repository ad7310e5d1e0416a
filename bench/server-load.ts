// Loopback load test of `strata serve`: autocannon with 64 connections on search and ask.
//
//   node --import tsx bench/server-load.ts [--duration 30] [--connections 64] [--warmup 3]
//   npm run build && node dist/bench/server-load.js [--duration 30]
//
// 1. `strata serve` runs in its own process (the CLI, not an in-process server, so it has its own
//    event loop), on a fresh data folder, with the per-key rate limit off (--rate-limit 0: one key
//    makes every request here) and its default JSON request logs written to a file. It runs first
//    without a model (search, extractive ask), then again on the same data with a scripted
//    OpenAI-protocol model (test/helpers/openai-server.ts, in a third process) that answers at
//    once, so "ask (model)" measures Strata's pipeline and the loopback model call, not a model.
// 2. The corpus is uploaded through the API: the museum fixtures (test/fixtures/kb; the research
//    plan readable by the group research only) and the repository's own Markdown documentation.
// 3. One user, dana (group research), with a read key, makes every request: the caller's rights are
//    in every store query, as for any caller.
// 4. Scenarios, each after a short warm-up: GET /api/me (the floor: HTTP, key check, usage row,
//    log line, no work), search (k = 10, eight queries in turn), ask without a model (extractive),
//    ask with the model (retrieve, assemble, generate, verify, store the trace and the conversation
//    turn). Every ask starts a new conversation, as a client that does not continue one does.
// 5. Reference in the same run: the same search and extractive answer calls through the library in
//    this process, one at a time, with the server stopped.
// Reported: requests/s (mean over the run), latency p50/p99 (autocannon's histogram), and errors =
// connection errors + timeouts + non-2xx answers.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { embedDeterministic, replyText, routes, startOpenAiServer, type WireRequestBody } from "../test/helpers/openai-server.js";
import { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, printTable, repoRoot, round, writeJson } from "./lib.js";

// autocannon ships no types: the part of its API used here.
interface AutocannonRequest {
  method: "GET" | "POST";
  path: string;
  setupRequest?: (req: Record<string, unknown>) => Record<string, unknown>;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  requests: AutocannonRequest[];
  timeout?: number;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  duration: number;
}
type Autocannon = (o: AutocannonOptions) => Promise<AutocannonResult>;

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "30" },
    connections: { type: "string", default: "64" },
    warmup: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    // Internal: run as the scripted model server (a process of its own, so the load generator's busy
    // event loop does not slow the model's answers down).
    upstream: { type: "boolean", default: false },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
if (![DURATION, CONNECTIONS].every((n) => Number.isInteger(n) && n > 0) || !(WARMUP >= 0)) {
  process.stderr.write("error: --duration, --connections and --warmup must be whole numbers (seconds, connections)\n");
  process.exit(2);
}

const ADMIN = "bench-admin-key-0123456789abcdefghijkl";
const QUERIES = [
  "standard admission price",
  "lantern walks old pier",
  "wreck survey sonar sled",
  "knowledge base store schema",
  "dense retrieval vectors",
  "grounded answers citations",
  "tokenizer training",
  "museum history lighthouse lens",
];
const QUESTIONS = [
  "How much does a standard admission cost?",
  "When do lantern walks begin?",
  "What is the sonar sled of the wreck survey called?",
  "Which lens came from the Skerry lighthouse?",
  "How is the knowledge base stored?",
  "What does hybrid search fuse?",
];

/** The CLI as this benchmark runs: compiled next to dist/bench, or from source with tsx. */
function cliCommand(): string[] {
  const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
  return fromSource ? [...process.execArgv, join(repoRoot(), "src", "cli", "main.ts")] : [join(repoRoot(), "dist", "src", "cli", "main.js")];
}

/** The answer a grounded prompt asks for: the first sentence of source 1, cited. */
function scriptedAnswer(body: WireRequestBody): string {
  const prompt = body.messages?.[body.messages.length - 1]?.content ?? "";
  const m = /^<<<SOURCE 1 [A-Za-z0-9]+>>>\n(?:title: [^\n]*\n)?([\s\S]*?)\n<<<END SOURCE 1 /m.exec(prompt);
  const sentence = m?.[1]?.split(/(?<=[.!?])\s+|\n+/).find((s) => /[.!?]$/.test(s.trim()))?.trim();
  return sentence ? `${sentence.replace(/[.!?]$/, "")} [1].` : "I cannot answer this from the sources.";
}

async function api(url: string, method: string, path: string, key: string, body?: unknown, form?: FormData): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url + path, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(p));
    else if (e.name.endsWith(".md")) out.push(p);
  }
  return out;
}

interface Serve {
  url: string;
  stop(): Promise<void>;
}

/** `strata serve` on the data folder, its JSON logs going to a file; with a model, the scripted one. */
async function startServe(dataDir: string, logFile: string, modelRef: string | undefined): Promise<Serve> {
  const logFd = openSync(logFile, "w");
  const server = spawn(process.execPath, [...cliCommand(), "serve", "--port", "0", "--data", dataDir, "--rate-limit", "0", ...(modelRef ? ["--model", `scripted=${modelRef}`] : [])], {
    env: { ...process.env, STRATA_ADMIN_KEY: ADMIN, CI: "true" },
    stdio: ["ignore", "ignore", logFd],
  });
  closeSync(logFd);
  const stop = async (): Promise<void> => {
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("close", r));
    }
  };
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const url = /listening on (http:\/\/[^\s]+) /.exec(readFileSync(logFile, "utf8"))?.[1];
    if (url) return { url, stop };
    if (server.exitCode !== null) throw new Error(`strata serve exited: ${readFileSync(logFile, "utf8")}`);
  }
  await stop();
  throw new Error("strata serve did not start within 30 s");
}

/** This file again, as the scripted model server; resolves to its model reference and a stop function. */
async function startUpstream(): Promise<{ ref: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--upstream"], { stdio: ["ignore", "pipe", "inherit"] });
  const ref = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /^(openai:\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("close", (code) => reject(new Error(`the scripted model server exited (${code})`)));
  });
  return {
    ref,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("close", r));
      }
    },
  };
}

async function runUpstream(): Promise<void> {
  const upstream = await startOpenAiServer(routes({ chat: (req, res, n) => replyText(scriptedAnswer(req.body), { usage: { prompt_tokens: 300, completion_tokens: 20 } })(req, res, n), embeddings: embedDeterministic(8) }));
  process.stdout.write(upstream.ref("scripted") + "\n");
  process.once("SIGTERM", () => void upstream.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const root = repoRoot();
  const data = mkdtempSync(join(tmpdir(), "strata-server-load-"));
  const upstream = await startUpstream();
  let serve: Serve | undefined;
  try {
    // Phase 1: no model (search, extractive ask); phase 2: the same data with the model.
    serve = await startServe(join(data, "srv"), join(data, "serve-1.log"), undefined);
    const url = serve.url;
    note(`strata serve at ${url}; uploading the corpus`);
    await api(url, "POST", "/api/users", ADMIN, { name: "dana", groups: ["research"] });
    const { key } = (await api(url, "POST", "/api/keys", ADMIN, { user: "dana", scopes: ["read"] })) as { key: string };
    await api(url, "POST", "/api/kbs", ADMIN, { name: "bench", members: { users: ["dana"], groups: [] } });
    const upload = async (files: string[], acl: string): Promise<void> => {
      const form = new FormData();
      form.append("acl_groups", acl);
      for (const f of files) form.append("files", new Blob([new Uint8Array(readFileSync(f))]), relative(root, f).replace(/[/\\]/g, "_"));
      const r = (await api(url, "POST", "/api/kbs/bench/documents", ADMIN, undefined, form)) as { failed: unknown[] };
      if (r.failed.length > 0) throw new Error(`upload failed: ${JSON.stringify(r.failed)}`);
    };
    const fixtures = join(root, "test", "fixtures", "kb");
    await upload([join(fixtures, "public", "museum-guide.md"), join(fixtures, "public", "history.html"), join(fixtures, "ops", "facilities.txt")], "");
    await upload([join(fixtures, "research", "survey-plan.md")], "research");
    await upload([join(root, "README.md"), join(root, "BENCHMARKS.md"), ...markdownFiles(join(root, "docs"))].filter(existsSync), "");
    const kbs = (await api(url, "GET", "/api/kbs", key)) as { documents: number; chunks: number }[];
    const corpus = { documents: kbs[0]!.documents, chunks: kbs[0]!.chunks };
    note(`corpus: ${corpus.documents} documents, ${corpus.chunks} chunks readable by dana`);

    const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const cycling = (path: string, bodies: string[]): AutocannonRequest[] => {
      let i = 0;
      return [{ method: "POST", path, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length]! }) }];
    };
    const run = async (name: string, path: string, bodies: string[]): Promise<Record<string, unknown>> => {
      if (WARMUP > 0) await autocannon({ url: serve!.url, connections: CONNECTIONS, duration: WARMUP, headers, requests: cycling(path, bodies), timeout: 30 });
      note(`${name}: ${CONNECTIONS} connections for ${DURATION} s`);
      const r = await autocannon({ url: serve!.url, connections: CONNECTIONS, duration: DURATION, headers, requests: cycling(path, bodies), timeout: 30 });
      return { scenario: name, requests_per_s: round(r.requests.average, 1), requests: r.requests.total, p50_ms: r.latency.p50, p99_ms: r.latency.p99, max_ms: r.latency.max, ok_2xx: r["2xx"], errors: r.errors + r.timeouts + r.non2xx };
    };
    const results: Record<string, unknown>[] = [];
    // The floor: authentication, usage accounting, logging and HTTP with no work behind them.
    const me: AutocannonRequest[] = [{ method: "GET", path: "/api/me" }];
    if (WARMUP > 0) await autocannon({ url: serve.url, connections: CONNECTIONS, duration: WARMUP, headers, requests: me, timeout: 30 });
    note(`GET /api/me: ${CONNECTIONS} connections for ${DURATION} s`);
    const floor = await autocannon({ url: serve.url, connections: CONNECTIONS, duration: DURATION, headers, requests: me, timeout: 30 });
    results.push({ scenario: "GET /api/me (floor)", requests_per_s: round(floor.requests.average, 1), requests: floor.requests.total, p50_ms: floor.latency.p50, p99_ms: floor.latency.p99, max_ms: floor.latency.max, ok_2xx: floor["2xx"], errors: floor.errors + floor.timeouts + floor.non2xx });
    results.push(await run("search", "/api/kbs/bench/search", QUERIES.map((q) => JSON.stringify({ query: q, k: 10 }))));
    results.push(await run("ask (extractive)", "/api/kbs/bench/ask", QUESTIONS.map((q) => JSON.stringify({ question: q }))));
    await serve.stop();
    serve = await startServe(join(data, "srv"), join(data, "serve-2.log"), upstream.ref);
    results.push(await run("ask (model)", "/api/kbs/bench/ask", QUESTIONS.map((q) => JSON.stringify({ question: q }))));
    await serve.stop();
    serve = undefined;
    note("library reference: the same calls in this process, one at a time");
    report(results, corpus, machine, await libraryReference(join(data, "srv", "kbs", "bench")));
  } finally {
    await serve?.stop();
    await upstream.stop();
    if (!args.keep) rmSync(data, { recursive: true, force: true });
  }
}

/**
 * The same calls without HTTP: the library in this process, one call at a time, as dana, for a
 * third of --duration each (at least 1 s) — what one event loop does with no server around it.
 */
async function libraryReference(kbDir: string): Promise<{ search_per_s: number; answer_per_s: number }> {
  const kb = KnowledgeBase.open(kbDir);
  const principal = { user: "dana", groups: ["research"] };
  const perSecond = async (fn: (i: number) => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    const until = t0 + Math.max(1, DURATION / 3) * 1000;
    let n = 0;
    while (performance.now() < until) await fn(n++);
    return round((n * 1000) / (performance.now() - t0), 1);
  };
  try {
    return {
      search_per_s: await perSecond((i) => kb.search(QUERIES[i % QUERIES.length]!, { k: 10, access: principal })),
      answer_per_s: await perSecond((i) => kb.answer(QUESTIONS[i % QUESTIONS.length]!, { k: 8, access: principal })),
    };
  } finally {
    kb.close();
  }
}

function report(results: Record<string, unknown>[], corpus: { documents: number; chunks: number }, machine: ReturnType<typeof machineInfo>, library: { search_per_s: number; answer_per_s: number }): void {
  const md = printTable(
    ["scenario", "requests/s", "p50 ms", "p99 ms", "max ms", "requests", "errors"],
    results.map((r) => [String(r.scenario), fmt(r.requests_per_s as number, 1), fmt(r.p50_ms as number), fmt(r.p99_ms as number), fmt(r.max_ms as number), fmt(r.requests as number), fmt(r.errors as number)]),
  );
  const file = writeJson("server-load", { command: commandLine(), machine, loadAtEnd: loadNow(), connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP, corpus, results, library });
  process.stdout.write(`\n${md}\n\nlibrary, in process, one call at a time: search ${fmt(library.search_per_s, 1)}/s, extractive answer ${fmt(library.answer_per_s, 1)}/s\nmachine: ${describeMachine(machine)}; load at end ${loadNow()}\nwritten: ${file}\n`);
  writeFileSync(join(repoRoot(), "bench", "out", "server-load.md"), md + "\n");
}

if (args.upstream) await runUpstream();
else await main();
