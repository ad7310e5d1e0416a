import { test } from "node:test";
import assert from "node:assert/strict";
import { mappedToBytes } from "../../src/tokenizer/bytes.js";
import { GGUF_TOKENIZER_VALUE_TYPES } from "../../src/tokenizer/gguf.js";
import { pretokenize } from "../../src/tokenizer/pretokenize.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { randomText, rng } from "./helpers/random-text.js";

async function trained() {
  const r = rng(12);
  const corpus = Array.from({ length: 1500 }, () => randomText(r, 10));
  const { tokenizer } = await trainTokenizerFromTexts(corpus, { vocabSize: 1200, whenDataRunsOut: "stop" });
  return tokenizer;
}

test("GGUF metadata has the shape llama.cpp's gpt2 tokenizer reads", async () => {
  const tok = await trained();
  const md = tok.toGgufTokenizerMetadata();
  assert.deepEqual(Object.keys(md).sort(), Object.keys(GGUF_TOKENIZER_VALUE_TYPES).sort());
  assert.equal(md["tokenizer.ggml.model"], "gpt2");
  assert.equal(md["tokenizer.ggml.pre"], "trillion"); // GPT-2's split without llama.cpp's space clean-up
  assert.equal(tok.toGgufTokenizerMetadata({ pre: "gpt-2" })["tokenizer.ggml.pre"], "gpt-2");
  const tokens = md["tokenizer.ggml.tokens"];
  const types = md["tokenizer.ggml.token_type"];
  assert.equal(tokens.length, tok.vocabSize);
  assert.equal(types.length, tok.vocabSize);
  assert.equal(new Set(tokens).size, tokens.length, "token texts are distinct");
  // Bytes: the GPT-2 mapped character, type normal.
  assert.equal(tokens[32], "Ġ");
  assert.equal(tokens[10], "Ċ");
  assert.equal(tokens[65], "A");
  for (let id = 0; id < tok.vocabSize; id++) {
    if (tok.isSpecial(id)) {
      assert.equal(types[id], 3, `special token ${id} is control`);
      assert.equal(tokens[id], tok.tokenText(id));
    } else {
      assert.equal(types[id], 1);
      assert.deepEqual(mappedToBytes(tokens[id]!), tok.tokenBytes(id), `token ${id} maps back to its bytes`);
    }
  }
  assert.deepEqual(tokens.slice(tok.normalVocabSize), ["<|startoftext|>", "<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]);
  assert.equal(md["tokenizer.ggml.bos_token_id"], tok.bosId);
  assert.equal(md["tokenizer.ggml.eos_token_id"], tok.eosId);
  assert.equal(md["tokenizer.ggml.eot_token_id"], tok.imEndId);
  assert.equal(md["tokenizer.ggml.padding_token_id"], tok.padId);
  assert.equal(md["tokenizer.ggml.add_bos_token"], true);
  assert.equal(md["tokenizer.ggml.add_eos_token"], false);
  assert.equal(md["tokenizer.chat_template"], tok.chatTemplate());
  // Merges: "left right", one space, both sides tokens, the join a token, in rank order.
  const merges = md["tokenizer.ggml.merges"];
  assert.equal(merges.length, tok.merges.length);
  const known = new Set(tokens.slice(0, tok.normalVocabSize));
  merges.forEach((m, r) => {
    const parts = m.split(" ");
    assert.equal(parts.length, 2, m);
    assert.ok(known.has(parts[0]!) && known.has(parts[1]!) && known.has(parts[0]! + parts[1]!), m);
    assert.equal(parts[0], tok.tokenText(tok.merges[r]![0]));
  });
});

test("a consumer with only the GGUF arrays encodes exactly as we do", async () => {
  // llama.cpp's BPE as it reads a GGUF: ranks of "left right" strings, symbols the mapped bytes of
  // each pre-tokenised word, merge the lowest-ranked adjacent pair (leftmost on ties), then look the
  // symbols' texts up in the token list. Written from the metadata alone.
  const tok = await trained();
  const md = tok.toGgufTokenizerMetadata();
  const rank = new Map(md["tokenizer.ggml.merges"].map((m, r) => [m, r]));
  const idOf = new Map(md["tokenizer.ggml.tokens"].map((t, id) => [t, id]));
  const mapped = (s: string) => [...new TextEncoder().encode(s)].map((b) => md["tokenizer.ggml.tokens"][b]!);
  const encode = (text: string): number[] =>
    pretokenize(text).flatMap((word) => {
      const sym = mapped(word);
      for (;;) {
        let best = -1;
        let at = -1;
        for (let i = 0; i + 1 < sym.length; i++) {
          const r = rank.get(sym[i] + " " + sym[i + 1]);
          if (r !== undefined && (best < 0 || r < best)) [best, at] = [r, i];
        }
        if (best < 0) break;
        sym.splice(at, 2, sym[at]! + sym[at + 1]!);
      }
      return sym.map((s) => idOf.get(s)!);
    });
  const r = rng(13);
  for (let n = 0; n < 1000; n++) {
    const s = randomText(r, 12);
    assert.deepEqual(encode(s), tok.encode(s), JSON.stringify(s));
  }
});
