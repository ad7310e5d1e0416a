// `strata ask --model gguf:<file>` end to end with a real GGUF that llama.cpp runs: a tiny model with
// random weights written by the test. Its words are noise, so the point is the plumbing: the CLI
// loads it, generates, verifies, reports usage and a trace, and never calls noise "supported".
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import { writeTinyLlamaGguf } from "../helpers/tiny-llama.js";

interface Answer { answer: string; mode: string; supported: boolean; citations: unknown[]; usage?: { inputTokens: number; outputTokens: number }; traceId?: string }

test("ask --model gguf: runs llama.cpp on a tiny model, with usage and a trace", async () => {
  const root = tempDir();
  const model = join(root, "tiny.gguf");
  await writeTinyLlamaGguf(model, { context: 4096 });
  const docs = join(root, "docs");
  cpSync(join(repoRoot(), "test", "fixtures", "kb", "public"), docs, { recursive: true });
  const kb = join(root, "kb");
  assert.equal(strata(["ingest", docs, "--kb", kb]).code, 0);
  const r = strata(["ask", "When do the lantern walks begin?", "--kb", kb, "--model", `gguf:${model}`, "--max-tokens", "24", "--json"], { env: { STRATA_THREADS: "1" }, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const a = jsonOf<Answer>(r);
  assert.equal(a.mode, "generative");
  assert.equal(a.supported, false, "random weights cannot produce a supported, cited answer");
  assert.ok((a.usage?.inputTokens ?? 0) > 0 && (a.usage?.outputTokens ?? 0) > 0, JSON.stringify(a.usage));
  assert.ok(a.traceId);
  const trace = strata(["trace", a.traceId, "--kb", kb, "--json"]);
  assert.equal(trace.code, 0, trace.stderr);
  assert.match(trace.stdout, /generate/);
});

test("ask --model gguf: with a truncated file fails with a clear error naming the file", async () => {
  const root = tempDir();
  const model = join(root, "tiny.gguf");
  await writeTinyLlamaGguf(model);
  const { truncateSync, statSync } = await import("node:fs");
  truncateSync(model, Math.floor(statSync(model).size / 2));
  const kb = join(root, "kb");
  cpSync(join(repoRoot(), "test", "fixtures", "kb", "public"), join(root, "docs"), { recursive: true });
  assert.equal(strata(["ingest", join(root, "docs"), "--kb", kb]).code, 0);
  const r = strata(["ask", "When do the lantern walks begin?", "--kb", kb, "--model", `gguf:${model}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .*tiny\.gguf/m);
  assert.match(r.stderr, /^hint: /m);
});
