// Helpers for the server tests: a real Strata server on 127.0.0.1 (in this process, over a real
// socket), a small HTTP client, a scripted OpenAI-protocol upstream model that answers from the
// sources in its prompt (and records every prompt, so tests can check what the model was shown),
// and the museum fixture: users, groups, keys and documents with access lists.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createStrataServer, type StrataServer, type StrataServerOptions } from "../../src/server/index.js";
import { createEmbeddingModel, createLanguageModel } from "../../src/model/registry.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import { embedDeterministic, replyText, replyToolCall, routes, startOpenAiServer, type OpenAiServer, type WireRequestBody } from "../helpers/openai-server.js";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  form?: FormData;
}

export class Client {
  constructor(readonly url: string) {}

  async request(method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
    let body: string | FormData | undefined;
    if (o.form) body = o.form;
    else if (o.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    }
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json<T>() {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new Error(`${method} ${path}: not JSON (${res.status}): ${text.slice(0, 300)}`);
        }
      },
    };
  }

  get = (path: string, key?: string): Promise<Reply> => this.request("GET", path, { key });
  post = (path: string, key: string | undefined, body: unknown, headers?: Record<string, string>): Promise<Reply> => this.request("POST", path, { key, body, headers });
  del = (path: string, key?: string): Promise<Reply> => this.request("DELETE", path, { key });
}

/** Server-sent events of a response body: [{event, data}] (data parsed as JSON when it is). */
export function parseSse(text: string): { event: string; data: unknown }[] {
  const out: { event: string; data: unknown }[] = [];
  for (const block of text.split("\n\n")) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length === 0) continue;
    const raw = data.join("\n");
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // [DONE] and other plain payloads stay strings
    }
    out.push({ event, data: parsed });
  }
  return out;
}

/** The sources of a prompt as the answer pipeline fences them: [{n, text}]. */
export function promptSources(body: WireRequestBody): { n: number; text: string }[] {
  const prompt = body.messages?.[body.messages.length - 1]?.content ?? "";
  return [...prompt.matchAll(/^<<<SOURCE (\d+) ([A-Za-z0-9]+)>>>\n(?:title: [^\n]*\n)?([\s\S]*?)\n<<<END SOURCE \1 \2>>>$/gm)].map((m) => ({ n: Number(m[1]), text: m[3]! }));
}

/** The question of an answer prompt ("Question: …" in its last message). */
export function questionOf(body: WireRequestBody): string {
  const prompt = body.messages?.[body.messages.length - 1]?.content ?? "";
  return /^Question: (.*)$/m.exec(prompt)?.[1] ?? "";
}

/** The source sentence sharing the most words (of four letters or more) with the question. */
export function bestSentence(sources: { n: number; text: string }[], question: string): { n: number; sentence: string } {
  const words = new Set(question.toLowerCase().match(/[a-z0-9]{4,}/g) ?? []);
  let best = { n: sources[0]!.n, sentence: sources[0]!.text.split("\n")[0]!, score: -1 };
  for (const s of sources) {
    for (const sentence of s.text.split(/(?<=[.!?])\s+|\n+/).map((x) => x.trim()).filter((x) => /[.!?]$/.test(x))) {
      const score = (sentence.toLowerCase().match(/[a-z0-9]{4,}/g) ?? []).filter((w) => words.has(w)).length;
      if (score > best.score) best = { n: s.n, sentence, score };
    }
  }
  return best;
}

/**
 * A scripted upstream: with fenced sources in the prompt it quotes the source sentence closest to
 * the question and cites it; for agent goals "search: …" / "ask: …" it calls kb_search / kb_ask and
 * echoes the tool's result; with other tools it calls the first tool; with a JSON schema it answers {"answer": "ok"};
 * otherwise it says "Hello from the scripted model.". Embeddings are deterministic, 8 wide.
 */
export async function startScriptedUpstream(): Promise<OpenAiServer> {
  return startOpenAiServer(
    routes({
      chat: (req, res, n) => {
        const sources = promptSources(req.body);
        if (sources.length > 0) {
          const best = bestSentence(sources, questionOf(req.body));
          return replyText(`${best.sentence.replace(/[.!?]$/, "")} [${best.n}].`, { usage: { prompt_tokens: 120, completion_tokens: 12 } })(req, res, n);
        }
        // Agent runs: "search: <q>" / "ask: <q>" call the knowledge tools, and a tool result is
        // echoed back whole — the worst case for leaks, a model repeating everything it was shown.
        const messages = req.body.messages ?? [];
        const names = new Set((req.body.tools ?? []).map((t) => t.function.name));
        const toolResult = [...messages].reverse().find((m) => m.role === "tool");
        if (toolResult && (names.has("kb_search") || names.has("kb_ask"))) return replyText(`Tool said: ${String(toolResult.content)}`)(req, res, n);
        const goal = String(messages.find((m) => m.role === "user")?.content ?? "");
        const search = /^search: (.+)$/m.exec(goal);
        if (search && names.has("kb_search")) return replyToolCall("kb_search", { query: search[1] })(req, res, n);
        const ask = /^ask: (.+)$/m.exec(goal);
        if (ask && names.has("kb_ask")) return replyToolCall("kb_ask", { question: ask[1] })(req, res, n);
        const tool = req.body.tools?.[0];
        if (tool) return replyToolCall(tool.function.name, { city: "Oslo" })(req, res, n);
        if (req.body.response_format?.type === "json_schema") return replyText(JSON.stringify({ answer: "ok" }))(req, res, n);
        return replyText("Hello from the scripted model.", { usage: { prompt_tokens: 9, completion_tokens: 5 } })(req, res, n);
      },
      embeddings: embedDeterministic(8),
    }),
  );
}

/** A writable that keeps everything written to it (the server's JSON logs). */
export class LogCapture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

export interface TestServer {
  server: StrataServer;
  client: Client;
  adminKey: string;
  dataDir: string;
  logs: LogCapture;
  upstream?: OpenAiServer;
  close(): Promise<void>;
}

/** A server on a fresh (or given) data folder; `model: true` serves the scripted upstream as "scripted" (+ "embed-8"). */
export async function startTestServer(o: Partial<StrataServerOptions> & { model?: boolean; upstream?: OpenAiServer } = {}): Promise<TestServer> {
  const dataDir = o.dataDir ?? tempDir("strata-server-");
  const logs = new LogCapture();
  const upstream = o.model ? (o.upstream ?? (await startScriptedUpstream())) : undefined;
  const languageModels = upstream ? [{ id: "scripted", model: await createLanguageModel(upstream.ref("scripted")) }] : [];
  const embeddingModel = upstream ? { id: "embed-8", model: await createEmbeddingModel(upstream.ref("embed-8")) } : undefined;
  const server = await createStrataServer({
    dataDir,
    adminKey: o.adminKey ?? "test-admin-key-0123456789abcdef",
    logger: { level: "info", stream: logs },
    webRoot: join(dataDir, "no-web-ui"),
    rateLimit: false,
    ...o,
    ...(languageModels.length ? { languageModels } : {}),
    ...(embeddingModel ? { embeddingModel } : {}),
  });
  const url = await server.listen({ port: 0, host: "127.0.0.1" });
  return {
    server,
    client: new Client(url),
    adminKey: o.adminKey ?? "test-admin-key-0123456789abcdef",
    dataDir,
    logs,
    upstream,
    close: async () => {
      await server.close();
      for (const m of languageModels) await m.model.close();
      await embeddingModel?.model.close();
      if (upstream && !o.upstream) await upstream.close();
    },
  };
}

// ---------- the museum fixture ----------

export const fixture = (rel: string): Buffer => readFileSync(join(repoRoot(), "test", "fixtures", "kb", rel));

/** A document readable only by the user erin. */
export const ERIN_NOTE = "# Erin's note\n\nThe vault combination is kept by Zephyrine the archivist.\n";

export interface MuseumDoc {
  file: string;
  bytes: Buffer;
  acl: { users: string[]; groups: string[] };
  /** Strings found only in this document (and in no question): none may reach a caller who may not read it. */
  markers: string[];
  question: string;
  docId?: string;
}

export const MUSEUM_DOCS: MuseumDoc[] = [
  { file: "museum-guide.md", bytes: fixture("public/museum-guide.md"), acl: { users: [], groups: [] }, markers: ["Lantern walks", "20:15", "Tram line 7"], question: "When do the walks along the old pier begin?" },
  { file: "survey-plan.md", bytes: fixture("research/survey-plan.md"), acl: { users: [], groups: ["research"] }, markers: ["Kestrel", "215,000", "Marigold"], question: "What is the sonar sled of the wreck survey called?" },
  { file: "facilities.txt", bytes: fixture("ops/facilities.txt"), acl: { users: [], groups: ["ops"] }, markers: ["9 months", "fire doors", "safety officer"], question: "How often are the humidity sensors in the archive recalibrated?" },
  { file: "erin-note.md", bytes: Buffer.from(ERIN_NOTE), acl: { users: ["erin"], groups: [] }, markers: ["Zephyrine", "archivist"], question: "Who keeps the vault combination?" },
];

/** Who may read which of MUSEUM_DOCS (by file), and mallory who is not a member of the base. */
export const READERS: Record<string, { groups: string[]; reads: string[]; member: boolean }> = {
  dana: { groups: ["research"], reads: ["museum-guide.md", "survey-plan.md"], member: true },
  omar: { groups: ["ops"], reads: ["museum-guide.md", "facilities.txt"], member: true },
  guest: { groups: [], reads: ["museum-guide.md"], member: true },
  erin: { groups: [], reads: ["museum-guide.md", "erin-note.md"], member: true },
  mallory: { groups: ["research", "ops"], reads: [], member: false },
};

export interface Museum {
  /** user → read-only key */
  keys: Record<string, string>;
  docs: MuseumDoc[];
}

export function uploadForm(files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append("files", new Blob([new Uint8Array(f.bytes)]), f.name);
  return form;
}

/**
 * Users with read keys, the knowledge base "museum" whose members are the users dana, omar, guest
 * and erin (by name: mallory belongs to the groups research and ops, which the documents' access
 * lists name, but she is not a member of the base), and the four documents uploaded by the admin.
 */
export async function setUpMuseum(t: TestServer): Promise<Museum> {
  const { client, adminKey } = t;
  const keys: Record<string, string> = {};
  for (const [name, r] of Object.entries(READERS)) {
    const u = await client.post("/api/users", adminKey, { name, groups: r.groups });
    if (u.status !== 201) throw new Error(`create user ${name}: ${u.status} ${u.text}`);
    const k = await client.post("/api/keys", adminKey, { user: name, scopes: ["read"] });
    if (k.status !== 201) throw new Error(`create key ${name}: ${k.status} ${k.text}`);
    keys[name] = k.json<{ key: string }>().key;
  }
  // Membership by user name only, so mallory's groups (research, ops) do not make her a member.
  const kb = await client.post("/api/kbs", adminKey, { name: "museum", members: { users: ["dana", "omar", "guest", "erin"], groups: [] } });
  if (kb.status !== 201) throw new Error(`create kb: ${kb.status} ${kb.text}`);
  const docs: MuseumDoc[] = [];
  for (const d of MUSEUM_DOCS) {
    const r = await client.request("POST", "/api/kbs/museum/documents", { key: adminKey, form: uploadForm([{ name: d.file, bytes: d.bytes }], { acl_users: d.acl.users.join(","), acl_groups: d.acl.groups.join(",") }) });
    if (r.status !== 200 || r.json<{ added: number }>().added !== 1) throw new Error(`upload ${d.file}: ${r.status} ${r.text}`);
    docs.push({ ...d });
  }
  // Each document's id, from the listing of a user who may read it.
  for (const d of docs) {
    const reader = Object.entries(READERS).find(([, r]) => r.reads.includes(d.file))![0];
    const list = await client.get("/api/kbs/museum/documents", keys[reader]);
    d.docId = list.json<{ docId: string; source: string }[]>().find((x) => x.source.endsWith("/" + d.file))?.docId;
    if (!d.docId) throw new Error(`no doc id for ${d.file}`);
  }
  return { keys, docs };
}
