// A checkpoint or GGUF whose weights hold NaN or infinity is refused at load, naming the tensor;
// weights that overflow at inference stop generation with an error instead of emitting text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { StrataError } from "../../../src/core/errors.js";
import { createLanguageModel } from "../../../src/model/registry.js";
import { tempDir } from "../../helpers/paths.js";
import { exportLlamaGguf } from "../../../src/formats/gguf/index.js";
import { tinyTrainedLlama, writeTinyRun } from "./helpers.js";

async function runWith(edit: (sd: ReturnType<Awaited<ReturnType<typeof tinyTrainedLlama>>["model"]["stateDict"]>) => void): Promise<string> {
  const trained = await tinyTrainedLlama({ steps: 2 });
  const sd = trained.model.stateDict({ copy: true });
  edit(sd);
  trained.model.loadStateDict(sd);
  const dir = join(tempDir("strata-nan-"), "run");
  await writeTinyRun(dir, trained);
  return dir;
}

test("a checkpoint with NaN weights is refused at load, naming the tensor", async () => {
  const dir = await runWith((sd) => {
    const name = Object.keys(sd).find((n) => n.includes("layers.1"))!;
    sd[name]!.data[3] = Number.NaN;
  });
  const e = await createLanguageModel(`builtin:${dir}`).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof StrataError, String(e));
  assert.equal(e.code, "CHECKPOINT_INVALID");
  assert.match(e.message, /layers\.1\S* .*NaN/);
});

test("weights that overflow to infinite logits stop generation with an error", async () => {
  const dir = await runWith((sd) => {
    // Each weight is finite; their products are not (1e20 · 1e20 overflows float32).
    sd["norm.weight"]!.data.fill(1e20);
    sd["output.weight"]!.data.fill(1e20);
  });
  const model = await createLanguageModel(`builtin:${dir}`);
  try {
    const e = await model.generate({ messages: [{ role: "user", content: "To be" }], maxTokens: 4 }).then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof StrataError, `generation finished: ${String(e)}`);
    assert.equal(e.code, "MODEL_OUTPUT_INVALID");
  } finally {
    await model.close();
  }
});

test("a GGUF with an infinite weight is refused at load by builtin:, naming the tensor", async () => {
  const trained = await tinyTrainedLlama({ steps: 2 });
  const sd = trained.model.stateDict({ copy: true });
  sd["layers.0.feed_forward.w2.weight"]!.data[5] = Number.POSITIVE_INFINITY;
  const path = join(tempDir("strata-nan-gguf-"), "tiny.gguf");
  await exportLlamaGguf(path, { config: trained.config, stateDict: sd, tokenizer: trained.tokenizer, quant: "f32", name: "tiny-inf" });
  const e = await createLanguageModel(`builtin:${path}`).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof StrataError, String(e));
  assert.equal(e.code, "GGUF_INVALID");
  assert.match(e.message, /Infinity/);
  assert.match(e.message, /ffn_down|feed_forward\.w2|blk\.0/);
});
