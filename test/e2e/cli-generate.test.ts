// The inference commands end to end, through the built CLI: a run directory (a tiny llama trained for
// a few dozen steps, saved with the checkpoint API) is exported to GGUF; `strata generate` gives the
// same greedy text from the run (Strata's engine) and from the GGUF (llama.cpp); `strata eval lm`
// gives the same loss from both; and bad input fails with a message and a hint.
import assert from "node:assert/strict";
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ggufValue, writeGguf } from "../../src/formats/gguf/index.js";
import { jsonOf, strata } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { TINY_TEXT, tinyTrainedLlama, writeTinyRun } from "../model/builtin/helpers.js";

const root = tempDir();
const run = join(root, "run");
const f32 = join(root, "tiny-f32.gguf");
const env = { STRATA_THREADS: "1" };
const PROMPT = "ROMEO: But soft, what light";

interface Generated { text: string; finishReason: string; usage: { inputTokens: number; outputTokens: number }; tokensPerSecond: number }
interface LmEval { tokens: number; loss: number; perplexity: number; window: number }
interface Exported { path: string; step: number; quant: string; bytes: number; tensors: { name: string; type: string }[]; fallbacks: string[] }

before(async () => {
  await writeTinyRun(run, await tinyTrainedLlama(), 40);
  writeFileSync(join(root, "text.txt"), TINY_TEXT);
});

describe("strata export gguf / generate / eval lm", () => {
  test("export gguf writes a file llama.cpp runs; builtin: and gguf: give the same greedy text", () => {
    const ex = strata(["export", "gguf", run, "--quant", "f32", "--out", f32, "--json"]);
    assert.equal(ex.code, 0, ex.stderr);
    const info = jsonOf<Exported>(ex);
    assert.equal(info.path, f32);
    assert.equal(info.step, 40);
    assert.equal(info.tensors.length, 2 * 9 + 3);
    const builtin = strata(["generate", "--model", `builtin:${run}`, PROMPT, "--max-tokens", "32"], { env });
    assert.equal(builtin.code, 0, builtin.stderr);
    assert.match(builtin.stderr, /\d+ prompt \+ 32 generated tokens/);
    const llamacpp = strata(["generate", "--model", `gguf:${f32}`, PROMPT, "--max-tokens", "32"], { env });
    assert.equal(llamacpp.code, 0, llamacpp.stderr);
    assert.ok(builtin.stdout.trim().length > 10, builtin.stdout);
    assert.equal(llamacpp.stdout, builtin.stdout);
    // builtin: also runs the exported file itself.
    const imported = strata(["generate", "--model", `builtin:${f32}`, PROMPT, "--max-tokens", "32"], { env });
    assert.equal(imported.stdout, builtin.stdout);
  });

  test("generate --json, sampling options, stop strings and --chat", () => {
    const g = (args: string[]) => {
      const r = strata(["generate", "--model", `builtin:${run}`, PROMPT, "--json", ...args], { env });
      assert.equal(r.code, 0, r.stderr);
      return jsonOf<Generated>(r);
    };
    const greedy = g(["--max-tokens", "20"]);
    assert.equal(greedy.finishReason, "length");
    assert.equal(greedy.usage.outputTokens, 20);
    const a = g(["--max-tokens", "20", "--temperature", "1", "--top-k", "20", "--top-p", "0.9", "--seed", "5"]);
    const b = g(["--max-tokens", "20", "--temperature", "1", "--top-k", "20", "--top-p", "0.9", "--seed", "5"]);
    assert.equal(a.text, b.text, "a seed repeats the sample");
    const stop = greedy.text.slice(6, 9);
    const cut = g(["--max-tokens", "20", "--stop", stop]);
    assert.equal(cut.text, greedy.text.slice(0, greedy.text.indexOf(stop)));
    assert.equal(cut.finishReason, "stop");
    const chat = g(["--chat", "--system", "Speak in verse.", "--max-tokens", "8"]);
    assert.ok(chat.usage.inputTokens > 10, "the chat template wraps the prompt");
    // And llama.cpp samples with the same options without error.
    const sampled = strata(["generate", "--model", `gguf:${f32}`, PROMPT, "--temperature", "0.7", "--repetition-penalty", "1.1", "--seed", "2", "--max-tokens", "8", "--json"], { env });
    assert.equal(sampled.code, 0, sampled.stderr);
    assert.ok(jsonOf<Generated>(sampled).usage.outputTokens >= 1);
  });

  test("eval lm gives {tokens, loss, perplexity}, the same from the run and from its GGUF", () => {
    const data = join(root, "text.txt");
    const ours = strata(["eval", "lm", "--model", `builtin:${run}`, "--data", data, "--window", "64", "--json"], { env });
    assert.equal(ours.code, 0, ours.stderr);
    const a = jsonOf<LmEval>(ours);
    const theirs = strata(["eval", "lm", "--model", `gguf:${f32}`, "--data", data, "--window", "64", "--json"], { env });
    assert.equal(theirs.code, 0, theirs.stderr);
    const b = jsonOf<LmEval>(theirs);
    assert.ok(a.tokens > 100);
    assert.equal(b.tokens, a.tokens);
    assert.equal(a.window, 64);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-4, `${a.loss} vs ${b.loss}`);
    assert.ok(Math.abs(a.perplexity - Math.exp(a.loss)) < 1e-9);
    assert.ok(a.loss < 4, `the model was trained on this text: loss ${a.loss}`);
    const runs = join(root, "eval-runs");
    const plain = strata(["eval", "lm", "--model", `builtin:${run}`, "--data", data, "--max-tokens", "50", "--runs", runs], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^49 tokens {2}loss \d\.\d{4} nats\/token {2}perplexity /);
    const id = /stored as run (\S+)/.exec(plain.stdout)?.[1] ?? "";
    const stored = JSON.parse(readFileSync(join(runs, id, "run.json"), "utf8")) as { kind: string; status: string; modelRef: string; summary: { tokens: number } };
    assert.deepEqual([stored.kind, stored.status, stored.modelRef, stored.summary.tokens], ["lm", "complete", `builtin:${run}`, 49]);
  });

  test("F16, Q8_0 and Q4_0 exports load in llama.cpp; Q4_0 scores close to F32", () => {
    for (const quant of ["f16", "q8_0", "q4_0"]) {
      const ex = strata(["export", "gguf", run, "--quant", quant, "--out", join(root, `tiny-${quant}.gguf`)]);
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, new RegExp(`wrote .*tiny-${quant}\\.gguf \\(${quant}, `));
    }
    const loss = (file: string) => jsonOf<LmEval>(strata(["eval", "lm", "--model", `gguf:${file}`, "--data", join(root, "text.txt"), "--window", "64", "--json"], { env })).loss;
    const q4 = loss(join(root, "tiny-q4_0.gguf"));
    const base = loss(f32);
    assert.ok(Math.abs(q4 - base) < 0.3, `q4_0 loss ${q4} vs F32 ${base}`);
  });
});

describe("bad input", () => {
  test("a missing run dir, a corrupt checkpoint and an unsupported quantization are clear errors", () => {
    const missing = strata(["export", "gguf", join(root, "no-run"), "--out", join(root, "x.gguf")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: run directory .*no-run does not exist/m);
    assert.match(missing.stderr, /^hint: /m);
    const quant = strata(["export", "gguf", run, "--quant", "q5_k", "--out", join(root, "x.gguf")]);
    assert.equal(quant.code, 2);
    assert.match(quant.stderr, /unsupported quantization "q5_k"/);
    assert.match(quant.stderr, /^hint: use one of f32, f16, q8_0, q4_0/m);
    const noOut = strata(["export", "gguf", run]);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out <file> is required/);
  });

  test("a corrupt checkpoint fails export, generate and eval with CHECKPOINT_INVALID naming the file", async () => {
    const broken = join(root, "broken");
    await writeTinyRun(broken, await tinyTrainedLlama({ steps: 2 }), 2);
    const weights = join(broken, "checkpoints", "step-2", "model.safetensors");
    truncateSync(weights, statSync(weights).size - 100);
    for (const args of [["export", "gguf", broken, "--out", join(root, "b.gguf")], ["generate", "--model", `builtin:${broken}`, "hi"], ["eval", "lm", "--model", `builtin:${broken}`, "--data", join(root, "text.txt")]]) {
      const r = strata(args, { env });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^error: .*model\.safetensors/m);
      assert.match(r.stderr, /^hint: /m);
    }
  });

  test("a GGUF of another architecture is refused by builtin:; generate and eval lm check their flags", async () => {
    const other = join(root, "gemma.gguf");
    await writeGguf(other, { metadata: [["general.architecture", ggufValue.str("gemma2")], ["gemma2.block_count", ggufValue.u32(1)]], tensors: [] });
    const r = strata(["generate", "--model", `builtin:${other}`, "hi"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*"gemma2" model; Strata's engine runs the "llama" and "qwen2" architectures/m);
    assert.match(r.stderr, /^hint: .*gguf:/m);
    assert.equal(strata(["generate", "hi"]).code, 2);
    assert.equal(strata(["generate", "--model", `builtin:${run}`, "hi", "--temperature", "hot"]).code, 2);
    const remote = strata(["eval", "lm", "--model", "openai:http://127.0.0.1:9/v1#m", "--data", join(root, "text.txt")]);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /builtin: or gguf:/);
    const empty = join(root, "empty.txt");
    writeFileSync(empty, "  \n");
    const e = strata(["eval", "lm", "--model", `builtin:${run}`, "--data", empty]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /holds no text/);
  });
});
