// `strata ask --model`, `strata chat` and `strata trace` end to end: the built CLI talks to a real
// OpenAI-protocol server on 127.0.0.1 (scripted replies over SSE), answers with verified citations
// whose quotes are exact spans, keeps guests' prompts free of restricted text, stores sessions and
// traces per user, and fails clearly on bad model references and a server that is down.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { cliPath, repoRoot, tempDir } from "../helpers/paths.js";
import { deadServerUrl, replyError, replyText, startOpenAiServer, type OpenAiServer, type WireRequestBody } from "../helpers/openai-server.js";

interface Citation { n: number; docId: string; source: string; start: number; end: number; quote: string }
interface Sentence { text: string; verdict?: string; supported: boolean; removed?: boolean }
interface Answer { answer: string; mode: string; supported: boolean; citations: Citation[]; sentences: Sentence[]; usage?: { inputTokens: number; outputTokens: number; costUsd?: number }; traceId?: string; abstention?: string }
interface Run { code: number | null; stdout: string; stderr: string }

// The CLI runs while this process serves the model, so it must be spawned without blocking.
function run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, CI: "true", ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

function parse<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}): ${r.stdout.slice(0, 300)} / ${r.stderr.slice(0, 500)}`);
  }
}

/** The text of the source in the prompt that contains `needle`, and its number. */
function sourceWith(body: WireRequestBody, needle: string): number | undefined {
  const prompt = body.messages?.[body.messages.length - 1]?.content ?? "";
  for (const m of prompt.matchAll(/^<<<SOURCE (\d+) ([A-Za-z0-9]+)>>>\n([\s\S]*?)\n<<<END SOURCE \1 \2>>>$/gm)) if (m[3]!.includes(needle)) return Number(m[1]);
  return undefined;
}

/** A scripted model: it answers about whichever fact its prompt's sources hold. */
const FACTS: [needle: string, answer: (n: number) => string][] = [
  ["9 pounds", (n) => `A standard admission costs 9 pounds [${n}]. Parking costs 40 pounds [${n}].`],
  ["20:15", (n) => `Lantern walks along the old pier begin at 20:15 on summer evenings [${n}].`],
  ["215,000", (n) => `The conservation team asks for 215,000 pounds to survey the wreck [${n}].`],
];

const root = tempDir();
const kb = join(root, "kb");
let server: OpenAiServer;
const config = join(root, "strata.config.json");

before(async () => {
  const docs = join(root, "docs");
  cpSync(join(repoRoot(), "test", "fixtures", "kb"), docs, { recursive: true });
  assert.equal(strata(["ingest", join(docs, "public"), "--kb", kb, "--json"]).code, 0);
  assert.equal(strata(["ingest", join(docs, "research"), "--kb", kb, "--acl-groups", "research", "--json"]).code, 0);
  writeFileSync(config, JSON.stringify({ prices: { test: { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } } }));
  server = await startOpenAiServer((req, res, n) => {
    const fact = FACTS.find(([needle]) => sourceWith(req.body, needle) !== undefined);
    const text = fact ? fact[1](sourceWith(req.body, fact[0])!) : "I cannot answer this from the sources.";
    return replyText(text, { usage: { prompt_tokens: 250, completion_tokens: 30 } })(req, res, n);
  });
});
after(() => server.close());

const env = () => ({ STRATA_CONFIG: config });
const ask = (q: string, ...extra: string[]) => run(["ask", q, "--kb", kb, "--model", server.ref("test"), ...extra], { env: env() });
const docText = (id: string) => jsonOf<{ text: string }>(strata(["show", id, "--kb", kb, "--json"])).text;

test("ask --model --json: a streamed, verified answer with exact spans, usage, cost and a trace id", async () => {
  const before = server.requests.length;
  const r = await ask("How much does a standard admission cost?", "--json", "--as", "guest");
  assert.equal(r.code, 0, r.stderr);
  const a = parse<Answer>(r);
  assert.equal(a.mode, "generative");
  assert.equal(a.supported, true);
  assert.deepEqual(a.sentences.map((s) => s.verdict), ["supported", "unmatched-fact"], "the parking price is not in the sources");
  assert.equal(a.citations.length, 1);
  assert.match(a.citations[0]!.quote, /standard admission costs 9 pounds/);
  assert.equal(docText(a.citations[0]!.docId).slice(a.citations[0]!.start, a.citations[0]!.end), a.citations[0]!.quote);
  assert.deepEqual({ ...a.usage }, { inputTokens: 250, outputTokens: 30, costUsd: 250 + 60 });
  assert.match(a.traceId ?? "", /^trc_/);
  const req = server.requests[before]!;
  assert.equal(req.path, "/chat/completions");
  assert.equal(req.body.stream, true);
  assert.equal(req.body.messages?.[0]?.role, "system");
});

test("--verify remove drops the unsupported sentence; human output streams and lists citations and the trace", async () => {
  const removed = parse<Answer>(await ask("How much does a standard admission cost?", "--json", "--verify", "remove"));
  assert.doesNotMatch(removed.answer, /Parking/);
  assert.deepEqual(removed.sentences.map((s) => s.removed), [false, true]);

  const r = await ask("When do the lantern walks begin?", "--stream");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Lantern walks along the old pier begin at 20:15 on summer evenings \[1\]\.\n/);
  assert.match(r.stdout, /mode: generative \(model test-model; 1 of 1 sentences supported/);
  assert.match(r.stdout, /\[1\] .*museum-guide\.md chars \d+–\d+: "Lantern walks/);
  assert.match(r.stdout, /tokens: 250 in, 30 out · cost \$/);
  assert.match(r.stdout, /trace: trc_[0-9a-f]+ \(strata trace/);
});

test("a guest's prompt never contains the research plan; the abstention is honest", async () => {
  const before = server.requests.length;
  const r = await ask("How much money does the conservation team ask for the wreck survey?", "--json", "--as", "guest");
  assert.equal(r.code, 0, r.stderr);
  const a = parse<Answer>(r);
  assert.equal(a.supported, false);
  assert.match(a.answer, /does not contain/);
  for (const req of server.requests.slice(before)) assert.doesNotMatch(JSON.stringify(req.body.messages), /215,000|Kestrel/);
  const dana = parse<Answer>(await ask("How much money does the conservation team ask for the wreck survey?", "--json", "--as", "dana", "--groups", "research"));
  assert.equal(dana.supported, true);
  assert.match(dana.answer, /215,000 pounds/);
});

test("strata trace shows the answer's spans to its owner only", async () => {
  const a = parse<Answer>(await ask("When do the lantern walks begin?", "--json", "--as", "guest"));
  const t = await run(["trace", a.traceId!, "--kb", kb, "--as", "guest", "--json"]);
  assert.equal(t.code, 0, t.stderr);
  const trace = parse<{ id: string; kind: string; spans: { name: string; ms: number }[]; usage: { inputTokens: number } }>(t);
  assert.equal(trace.id, a.traceId);
  assert.deepEqual(trace.spans.map((s) => s.name), ["retrieve", "assemble", "generate", "verify"]);
  assert.equal(trace.usage.inputTokens, 250);
  const human = await run(["trace", a.traceId!, "--kb", kb]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^trace trc_\S+ · ask · /);
  assert.match(human.stdout, /^generate\s+\|[ █]+\|\s+[\d.]+ ms/m);
  const other = await run(["trace", a.traceId!, "--kb", kb, "--as", "omar"]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /^error: no trace trc_\S+ .* that you may read\nhint: /);
  const list = parse<{ traces: { id: string }[] }>(await run(["trace", "--kb", kb, "--as", "guest", "--json"]));
  assert.ok(list.traces.some((x) => x.id === a.traceId));
  assert.ok(parse<{ traces: unknown[] }>(await run(["trace", "--kb", kb, "--as", "omar", "--json"])).traces.length === 0);
});

test("chat reads questions from a pipe, remembers the session, and keeps it private", async () => {
  const before = server.requests.length;
  const r = await run(["chat", "--kb", kb, "--model", server.ref("test"), "--session", "visit-7", "--as", "guest", "--json"], {
    input: "When do the lantern walks begin?\n\nHow much does a standard admission cost?\n",
    env: env(),
  });
  assert.equal(r.code, 0, r.stderr);
  const out = parse<{ session: string; turns: Answer[] }>(r);
  assert.equal(out.session, "visit-7");
  assert.equal(out.turns.length, 2);
  assert.ok(out.turns.every((t) => t.supported && t.traceId));
  const second = server.requests[before + 1]!.body.messages!;
  assert.deepEqual(second.map((m) => m.role), ["system", "user", "assistant", "user"]);
  assert.equal(second[1]!.content, "When do the lantern walks begin?");

  const h = await run(["chat", "--kb", kb, "--session", "visit-7", "--as", "guest", "--history", "--json"]);
  assert.equal(h.code, 0, h.stderr);
  const history = parse<{ owner: string; turns: { question: string; answer: string; citations: Citation[] }[] }>(h);
  assert.equal(history.turns.length, 2);
  assert.equal(history.turns[1]!.answer, out.turns[1]!.answer);
  const human = await run(["chat", "--kb", kb, "--session", "visit-7", "--as", "guest", "--history"]);
  assert.match(human.stdout, /you: When do the lantern walks begin\?\nanswer: Lantern walks/);

  for (const args of [["--history"], ["--model", server.ref("test")]]) {
    const denied = await run(["chat", "--kb", kb, "--session", "visit-7", "--as", "omar", ...args], { input: "What did the guest ask?\n" });
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /^error: session visit-7 belongs to another user\nhint: /);
  }
});

test("chat without --session starts a new one and names it on stderr", async () => {
  const r = await run(["chat", "--kb", kb, "--model", server.ref("test"), "--as", "guest"], { input: "When do the lantern walks begin?\n/exit\nnever asked\n", env: env() });
  assert.equal(r.code, 0, r.stderr);
  const id = /session: (chat-[0-9a-f]{8})/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  assert.match(r.stdout, /Lantern walks/);
  const h = parse<{ turns: unknown[] }>(await run(["chat", "--kb", kb, "--session", id, "--as", "guest", "--history", "--json"]));
  assert.equal(h.turns.length, 1, "lines after /exit are not asked");
});

test("bad model references and a server that is down fail with one clear error and a hint", async () => {
  const missing = await run(["ask", "When do the lantern walks begin?", "--kb", kb, "--model", join(root, "nope.gguf").replace(/^/, "gguf:")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: model file .*nope\.gguf does not exist.*\nhint: .+\n$/);

  const dead = await deadServerUrl();
  const down = await run(["ask", "When do the lantern walks begin?", "--kb", kb, "--model", `openai:${dead}#test`], { env: { STRATA_CONFIG: config } });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^error: cannot connect to .*connection refused.*\nhint: .+\n$/);

  const unknownModel = await startOpenAiServer(replyError(404, "model 'nope' not found"));
  try {
    const r = await run(["ask", "When do the lantern walks begin?", "--kb", kb, "--model", unknownModel.ref("nope"), "--json"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    assert.match(r.stderr, /hint: /);
    assert.deepEqual(Object.keys(parse<{ error: object }>(r)), ["error"]);
  } finally {
    await unknownModel.close();
  }

  const scheme = await run(["ask", "q?", "--kb", kb, "--model", "nosuch:thing"]);
  assert.equal(scheme.code, 2);
  assert.match(scheme.stderr, /^error: unknown model scheme/);
  const stray = await run(["ask", "When?", "--kb", kb, "--verify", "remove"]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /^error: --verify needs --model <ref>/);
  const badVerify = await run(["ask", "When?", "--kb", kb, "--model", server.ref("test"), "--verify", "maybe"]);
  assert.equal(badVerify.code, 2);
  // Without --model, chat answers extractively (issue 19); the model-only flags are usage errors.
  const noModel = await run(["chat", "--kb", kb, "--verify", "remove"], { input: "hi\n" });
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /--verify needs --model <ref>/);
});

test("without --model, ask stays extractive and records no trace", async () => {
  const r = await run(["ask", "When do the lantern walks begin?", "--kb", kb, "--json"]);
  const a = parse<Answer & { traceId?: string }>(r);
  assert.equal(a.mode, "extractive");
  assert.equal(a.traceId, undefined);
  assert.equal(a.usage, undefined);
});
