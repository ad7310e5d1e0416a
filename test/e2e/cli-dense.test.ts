// Dense and hybrid search end to end: the real CLI embeds through the openai: provider against a
// local OpenAI-protocol server whose embeddings come from the hash embedder, so the vectors mean
// something. Covers ingest --embed, embed (resumable after kill -9), search --mode, ACLs,
// re-ingest, dimension changes and reranking. The CLI runs asynchronously: the server lives in
// this process and must keep answering while the CLI waits for it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { hashEmbed } from "../helpers/hash-embedder.js";
import { replyText, routes, sendJson, startOpenAiServer, type Handler } from "../helpers/openai-server.js";
import { cliPath, repoRoot, tempDir } from "../helpers/paths.js";

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
interface Hit { rank: number; source: string; text: string; score: number }
interface SearchJson { mode: string; results: Hit[] }
interface EmbedJson { modelId: string; dimensions: number; embedded: number; vectors: number; chunks: number }

function cli(args: string[], opts: { killWhen?: () => boolean } = {}): Promise<Run> {
  const child = spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = opts.killWhen && setInterval(() => opts.killWhen!() && child.kill("SIGKILL"), 5);
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

function json<T>(r: Run): T {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// Embeddings from the hash embedder at a width the test can change; `hangAfter` stops answering.
let dims = 64;
let hangAfter = Infinity;
let embedCalls = 0;
const embeddings: Handler = (req, res) => {
  if (++embedCalls > hangAfter) return;
  const input = req.body.input;
  const texts = Array.isArray(input) ? input.map(String) : [String(input)];
  sendJson(res, 200, { object: "list", data: texts.map((t, index) => ({ object: "embedding", index, embedding: Array.from(hashEmbed(t, dims)) })), usage: { prompt_tokens: 1, total_tokens: 1 } });
};
// The reranking model: it scores passages that mention the tram 10 and everything else 1.
const judge: Handler = (req, res, n) => {
  const prompt = req.body.messages?.at(-1)?.content ?? "";
  const passages = prompt.split(/^Passage \d+:$/m).slice(1);
  return replyText(JSON.stringify({ scores: passages.map((p, i) => ({ id: i + 1, score: /tram/i.test(p) ? 10 : 1 })) }))(req, res, n);
};
const server = await startOpenAiServer(routes({ embeddings, chat: judge }));
after(() => server.close());
const ref = server.ref("hash-embed");

const root = tempDir();
const docs = join(root, "docs");
cpSync(join(repoRoot(), "test", "fixtures", "kb"), docs, { recursive: true });
const kb = join(root, "kb");
const chunkCount = (): number => {
  const db = new Database(join(kb, "strata.db"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM chunks").get() as { n: number }).n;
  } finally {
    db.close();
  }
};
const search = async (query: string, ...extra: string[]) => json<SearchJson>(await cli(["search", query, "--kb", kb, "--json", ...extra]));

test("ingest --embed stores a vector for every chunk it adds", async () => {
  const pub = json<{ added: number; embedding: EmbedJson }>(await cli(["ingest", join(docs, "public"), "--kb", kb, "--embed", ref, "--json"]));
  assert.equal(pub.added, 2);
  assert.equal(pub.embedding.modelId, ref);
  assert.equal(pub.embedding.dimensions, 64);
  assert.equal(pub.embedding.vectors, chunkCount());
  const research = json<{ embedding: EmbedJson }>(await cli(["ingest", join(docs, "research"), "--kb", kb, "--acl-groups", "research", "--embed", ref, "--json"]));
  assert.ok(research.embedding.embedded >= 1);
  assert.equal(research.embedding.vectors, chunkCount());
  json(await cli(["ingest", join(docs, "ops"), "--kb", kb, "--acl-users", "omar", "--json"]));
});

test("search --mode dense and hybrid rank by meaning and respect access", async () => {
  const dense = await search("sonar sled Kestrel Marigold wreck", "--mode", "dense", "--embed", ref);
  assert.equal(dense.mode, "dense");
  assert.match(dense.results[0]!.source, /survey-plan\.md$/);
  const hybrid = await search("sonar sled Kestrel Marigold wreck", "--embed", ref);
  assert.equal(hybrid.mode, "hybrid", "--embed without --mode means hybrid");
  assert.match(hybrid.results[0]!.source, /survey-plan\.md$/);
  for (const mode of ["dense", "hybrid"]) {
    const guest = await search("sonar sled Kestrel Marigold wreck", "--mode", mode, "--embed", ref, "--as", "guest", "-k", "3");
    assert.equal(guest.results.length, 3, `${mode}: k filled with readable chunks`);
    assert.ok(!guest.results.some((r) => /survey-plan|facilities/.test(r.source)), `${mode}: guest saw a restricted chunk`);
  }
  const lexical = await search("sonar sled", "--embed", ref, "--mode", "lexical");
  assert.equal(lexical.mode, "lexical");
});

test("dense search without a model or without vectors fails with the fix", async () => {
  const noModel = await cli(["search", "tram", "--kb", kb, "--mode", "dense"]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /error: dense search needs the embedding model/);
  assert.match(noModel.stderr, /hint: .*--embed <ref>.*strata embed --kb/);
  const other = await cli(["search", "tram", "--kb", kb, "--mode", "hybrid", "--embed", server.ref("never-embedded")]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /error: the knowledge base at .* has no vectors for embedding model openai:.*#never-embedded/);
  assert.match(other.stderr, /hint: embed its chunks first: `strata embed --kb /);
  const badMode = await cli(["search", "tram", "--kb", kb, "--mode", "fuzzy"]);
  assert.equal(badMode.code, 2);
  assert.match(badMode.stderr, /lexical.*dense.*hybrid/);
});

test("a changed document loses its vectors on re-ingest; search warns and embed fills the gap", async () => {
  writeFileSync(join(docs, "public", "museum-guide.md"), "# Guide\n\n## Travel\n\nThe night ferry to the museum pier leaves at 21:40.\n");
  json(await cli(["ingest", join(docs, "public"), "--kb", kb, "--json"]));
  const partial = await cli(["search", "night ferry", "--kb", kb, "--embed", ref, "--json"]);
  assert.equal(partial.code, 0);
  assert.match(partial.stderr, /warning: \d+ chunks have no vector for .*strata embed --kb/);
  const r = json<EmbedJson>(await cli(["embed", "--kb", kb, "--model", ref, "--json"]));
  assert.ok(r.embedded >= 1);
  assert.equal(r.vectors, r.chunks);
  const after = await cli(["search", "night ferry", "--kb", kb, "--embed", ref, "--mode", "dense", "--json"]);
  assert.equal(after.stderr, "");
  assert.match(json<SearchJson>(after).results[0]!.text, /night ferry/);
  assert.equal(json<EmbedJson>(await cli(["embed", "--kb", kb, "--model", ref, "--json"])).embedded, 0);
});

test("embed killed with SIGKILL midway keeps whole batches; a rerun embeds only the rest", async () => {
  const model = server.ref("second-model");
  const total = chunkCount();
  embedCalls = 0;
  hangAfter = 2;
  const killed = await cli(["embed", "--kb", kb, "--model", model, "--batch", "1"], { killWhen: () => embedCalls > 2 });
  hangAfter = Infinity;
  assert.equal(killed.signal, "SIGKILL");
  embedCalls = 0;
  const rerun = json<EmbedJson>(await cli(["embed", "--kb", kb, "--model", model, "--batch", "1", "--json"]));
  assert.equal(rerun.embedded, total - 2);
  assert.equal(embedCalls, total - 2);
  assert.equal(rerun.vectors, total);
});

test("a model whose width changed is refused until --rebuild", async () => {
  dims = 32;
  writeFileSync(join(docs, "public", "museum-guide.md"), "# Guide\n\nTram line 7 stops at the museum gate.\n");
  json(await cli(["ingest", join(docs, "public"), "--kb", kb, "--json"]));
  const refused = await cli(["embed", "--kb", kb, "--model", ref]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error: the knowledge base holds 64-dim vectors for openai:.*#hash-embed, the model now returns 32/);
  assert.match(refused.stderr, /hint: .*--rebuild/);
  const rebuilt = json<EmbedJson>(await cli(["embed", "--kb", kb, "--model", ref, "--rebuild", "--json"]));
  assert.deepEqual([rebuilt.dimensions, rebuilt.embedded, rebuilt.vectors], [32, chunkCount(), chunkCount()]);
});

test("--rerank sorts the candidates by the language model's scores", async () => {
  const plain = await search("museum history lighthouse", "--embed", ref);
  assert.ok(!/tram/i.test(plain.results[0]!.text), "without reranking the tram chunk is not first");
  const reranked = await search("museum history lighthouse", "--embed", ref, "--rerank", server.ref("judge"), "-k", "2");
  assert.match(reranked.results[0]!.text, /tram/i);
  assert.equal(reranked.results[0]!.score, 10);
  assert.equal(reranked.results.length, 2);
  const chat = server.requests.filter((r) => r.path === "/chat/completions");
  assert.ok(chat.length >= 1);
  assert.equal(chat[0]!.body.response_format?.type, "json_schema");
});
