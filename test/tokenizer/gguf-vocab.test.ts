// The tokenizers of downloaded GGUF models against llama.cpp (node-llama-cpp) on each family's
// vocabulary layout: SentencePiece (Llama 2 / TinyLlama / Mistral) and GPT-2 BPE with the llama-bpe
// (Llama 3.x), smollm (SmolLM2) and qwen2 (Qwen2.5) pre-tokenizers. Same ids on a mixed corpus,
// with and without special-token parsing, and the same text back with and without special tokens.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { LlamaModel, Token } from "node-llama-cpp";
import { openGguf, vocabTokenizerFromGguf } from "../../src/formats/gguf/index.js";
import { sharedLlama } from "../../src/model/providers/llamacpp/runtime.js";
import type { VocabTokenizer } from "../../src/tokenizer/vocab-tokenizer.js";
import { MIXED_CORPUS, writeFamilyGguf, type Family } from "../helpers/gguf-families.js";
import { tempDir } from "../helpers/paths.js";

const dir = tempDir();
const opened: LlamaModel[] = [];
after(async () => {
  for (const m of opened) await m.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function load(family: Family): Promise<{ ours: VocabTokenizer; theirs: LlamaModel }> {
  const file = await writeFamilyGguf(join(dir, `${family}.gguf`), family);
  const reader = await openGguf(file.path);
  const ours = vocabTokenizerFromGguf(reader.metadata, file.path);
  await reader.close();
  const theirs = await (await sharedLlama()).loadModel({ modelPath: file.path, vocabOnly: true });
  opened.push(theirs);
  return { ours, theirs };
}

const SPECIAL_TEXT: Record<string, string[]> = {
  llama2: ["<s>[INST] hi [/INST] ok</s>", "a<unk>b", "</s></s>x"],
  "llama3.1": ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", "x<|reserved_special_token_3|>y"],
  smollm2: ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "<filename>a.py<file_sep>"],
  "qwen2.5": ["<|im_start|>system\nYou are Qwen.<|im_end|>\n", "<tool_call>{\"a\": 1}</tool_call>", "<|fim_prefix|>def<|fim_middle|>"],
};

for (const family of ["llama2", "llama3.1", "smollm2", "qwen2.5"] as const) {
  test(`${family}: token ids and text equal llama.cpp's on the mixed corpus`, async () => {
    const { ours, theirs } = await load(family);
    const texts = [...MIXED_CORPUS, MIXED_CORPUS.join(" "), "", " ", "  a", "\n", "x   \n\n  y"];
    for (const text of texts) {
      const want = Array.from(theirs.tokenize(text, false), Number);
      const got = ours.encode(text);
      assert.deepEqual(got, want, `${family} ids of ${JSON.stringify(text)}`);
      assert.equal(ours.decode(got), theirs.detokenize(want as Token[], true), `${family} text of ${JSON.stringify(text)}`);
    }
    for (const text of [...SPECIAL_TEXT[family]!, ...MIXED_CORPUS.slice(0, 2)]) {
      const want = Array.from(theirs.tokenize(text, true), Number);
      const got = ours.encode(text, { parseSpecial: true });
      assert.deepEqual(got, want, `${family} ids of ${JSON.stringify(text)} with special tokens`);
      assert.equal(ours.decode(got), theirs.detokenize(want as Token[], true), `${family} text of ${JSON.stringify(text)} with special tokens shown`);
      assert.equal(ours.decode(got, { skipSpecial: true }), theirs.detokenize(want as Token[], false), `${family} text of ${JSON.stringify(text)} without special tokens`);
      // Special-token text not parsed is plain text on both sides.
      assert.deepEqual(ours.encode(text), Array.from(theirs.tokenize(text, false), Number), `${family} ${JSON.stringify(text)} as plain text`);
    }
    // Every single token decodes alike (bytes, specials, pieces with spaces).
    for (let id = 0; id < ours.vocabSize; id += 7) {
      assert.equal(ours.decode([id]), theirs.detokenize([id as Token], true), `${family} token ${id}`);
    }
  });
}

test("vocabularies the engine cannot read are clear TOKENIZER_INVALID errors naming the key", async () => {
  const { ggufValue } = await import("../../src/formats/gguf/index.js");
  const { StrataError } = await import("../../src/core/errors.js");
  const meta = (entries: Array<[string, ReturnType<typeof ggufValue.str>]>) => new Map(entries);
  const tokens = ggufValue.strings(["a", "b", "ab"]);
  const cases: Array<[Map<string, ReturnType<typeof ggufValue.str>>, RegExp]> = [
    [meta([]), /no tokenizer\.ggml\.model/],
    [meta([["tokenizer.ggml.model", ggufValue.str("bert")], ["tokenizer.ggml.tokens", tokens]]), /"bert" is not one Strata's engine reads \(llama, gpt2\)/],
    [meta([["tokenizer.ggml.model", ggufValue.str("gpt2")], ["tokenizer.ggml.pre", ggufValue.str("deepseek-coder")], ["tokenizer.ggml.tokens", tokens], ["tokenizer.ggml.merges", ggufValue.strings(["a b"])]]), /pre-tokenizer "deepseek-coder"/],
    [meta([["tokenizer.ggml.model", ggufValue.str("gpt2")], ["tokenizer.ggml.tokens", tokens]]), /without tokenizer\.ggml\.merges/],
    [meta([["tokenizer.ggml.model", ggufValue.str("llama")], ["tokenizer.ggml.tokens", tokens], ["tokenizer.ggml.scores", ggufValue.numbers("float32", [0])]]), /3 tokens but 1 scores/],
    [meta([["tokenizer.ggml.model", ggufValue.str("llama")], ["tokenizer.ggml.tokens", ggufValue.strings([])]]), /missing or empty/],
  ];
  for (const [m, re] of cases) {
    assert.throws(() => vocabTokenizerFromGguf(m, "x.gguf"), (e: unknown) => e instanceof StrataError && e.code === "TOKENIZER_INVALID" && re.test(e.message) && e.message.startsWith("x.gguf"), String(re));
  }
  // A SentencePiece vocabulary without byte tokens cannot encode a character it lacks: a clear error, not a crash.
  const spm = vocabTokenizerFromGguf(meta([["tokenizer.ggml.model", ggufValue.str("llama")], ["tokenizer.ggml.tokens", ggufValue.strings(["<unk>", "▁a", "a"])], ["tokenizer.ggml.add_bos_token", ggufValue.bool(false)]]), "x.gguf");
  assert.deepEqual(spm.encode("a"), [1]);
  assert.throws(() => spm.encode("z"), (e: unknown) => e instanceof StrataError && e.code === "TOKENIZER_INVALID");
});
