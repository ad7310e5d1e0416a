// The exported tokenizer in llama.cpp itself (through node-llama-cpp): a GGUF holding only our
// vocabulary (llama.cpp's vocab-only load needs the llama hyper-parameters but no tensors) loads,
// tokenizes text to exactly our ids, and turns our ids back into exactly the text.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";
import { ggufValue, writeGguf, type GgufValue } from "../../src/formats/gguf/index.js";
import { sharedLlama } from "../../src/model/providers/llamacpp/runtime.js";
import { GGUF_TOKENIZER_VALUE_TYPES, type GgufTokenizerMetadata, type GgufTokenizerOptions } from "../../src/tokenizer/gguf.js";
import type { Tokenizer } from "../../src/tokenizer/tokenizer.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { tempDir } from "../helpers/paths.js";
import { randomText, rng } from "./helpers/random-text.js";

const dir = tempDir();
const opened: LlamaModel[] = [];
let tok: Tokenizer;

before(async () => {
  const r = rng(31);
  // Apostrophes after spaces ("in 's") are where llama.cpp's gpt-2 clean-up changes the text.
  const corpus = Array.from({ length: 1500 }, () => randomText(r, 10) + " 'tis in 's hand , isn't it ?");
  tok = (await trainTokenizerFromTexts(corpus, { vocabSize: 1500, whenDataRunsOut: "stop" })).tokenizer;
});

after(async () => {
  for (const m of opened) await m.dispose();
});

function toGgufValue(key: keyof GgufTokenizerMetadata, md: GgufTokenizerMetadata): GgufValue {
  const v = md[key];
  switch (GGUF_TOKENIZER_VALUE_TYPES[key]) {
    case "string":
      return ggufValue.str(v as string);
    case "uint32":
      return ggufValue.u32(v as number);
    case "bool":
      return ggufValue.bool(v as boolean);
    case "array:string":
      return ggufValue.strings(v as string[]);
    case "array:int32":
      return ggufValue.numbers("int32", v as number[]);
  }
}

async function loadVocab(options: GgufTokenizerOptions): Promise<LlamaModel> {
  const md = tok.toGgufTokenizerMetadata(options);
  const path = join(dir, `vocab-${md["tokenizer.ggml.pre"]}.gguf`);
  const metadata: [string, GgufValue][] = [
    ["general.architecture", ggufValue.str("llama")],
    ["llama.context_length", ggufValue.u32(64)],
    ["llama.embedding_length", ggufValue.u32(16)],
    ["llama.block_count", ggufValue.u32(1)],
    ["llama.feed_forward_length", ggufValue.u32(32)],
    ["llama.attention.head_count", ggufValue.u32(2)],
    ["llama.attention.head_count_kv", ggufValue.u32(2)],
    ["llama.attention.layer_norm_rms_epsilon", ggufValue.f32(1e-5)],
    ["llama.rope.freq_base", ggufValue.f32(10000)],
    ["llama.rope.dimension_count", ggufValue.u32(8)],
    ...(Object.keys(GGUF_TOKENIZER_VALUE_TYPES) as (keyof GgufTokenizerMetadata)[]).map((k): [string, GgufValue] => [k, toGgufValue(k, md)]),
  ];
  await writeGguf(path, { metadata, tensors: [] });
  const llama = await sharedLlama();
  const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
  opened.push(model);
  return model;
}

test("llama.cpp reads the exported vocabulary: same ids, same text back, same special tokens", async () => {
  const model = await loadVocab({});
  assert.equal(model.fileInfo.metadata.tokenizer.ggml.pre, "trillion");
  assert.equal(model.tokens.bos, tok.bosId);
  assert.equal(model.tokens.eos, tok.eosId);
  assert.equal(model.tokens.eot, tok.imEndId);
  const r = rng(32);
  const texts = [" 'tis in 's hand , isn't it ?", "a\n\n  b  ", ...Array.from({ length: 1000 }, () => randomText(r, 14))];
  for (const text of texts) {
    const ids = tok.encode(text);
    assert.deepEqual(Array.from(model.tokenize(text, false), Number), ids, JSON.stringify(text));
    assert.equal(model.detokenize(ids as Token[], false), text, JSON.stringify(text));
  }
  // Special tokens: parsed only when asked, on both sides, and a chat prompt tokenizes alike.
  const chat = tok.renderChat([{ role: "system", content: "Be brief." }, { role: "user", content: "What's up?" }], { addGenerationPrompt: true });
  assert.deepEqual(Array.from(model.tokenize(chat, true), Number), tok.encode(chat, { allowedSpecial: "all" }));
  assert.deepEqual(Array.from(model.tokenize("x<|im_end|>", false), Number), tok.encode("x<|im_end|>"));
});

test('with pre = "gpt-2" llama.cpp gives the same ids but cleans spaces out of the text', async () => {
  const model = await loadVocab({ pre: "gpt-2" });
  const text = "in 's hand , isn't it ?";
  const ids = tok.encode(text);
  assert.deepEqual(Array.from(model.tokenize(text, false), Number), ids);
  assert.notEqual(model.detokenize(ids as Token[], false), text); // why "trillion" is the default
});
