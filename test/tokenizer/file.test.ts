import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isStrataError } from "../../src/core/errors.js";
import { loadTokenizer, saveTokenizer, serializeTokenizer, tokenizerToJson } from "../../src/tokenizer/file.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { tempDir } from "../helpers/paths.js";
import { randomText, rng } from "./helpers/random-text.js";

async function trained() {
  const r = rng(4);
  const corpus = Array.from({ length: 400 }, () => randomText(r, 10));
  const { tokenizer } = await trainTokenizerFromTexts(corpus, {
    vocabSize: 600,
    whenDataRunsOut: "stop",
    specialTokens: { pad: "<|padding|>" },
    extraSpecialTokens: ["<|tool_call|>"],
    addBosToken: false,
  });
  return { tokenizer, corpus };
}

test("save then load gives the same tokenizer", async () => {
  const { tokenizer, corpus } = await trained();
  const dir = tempDir();
  const path = join(dir, "tok.json");
  await saveTokenizer(tokenizer, path);
  assert.deepEqual(readdirSync(dir), ["tok.json"], "no temporary file is left behind");
  const loaded = await loadTokenizer(path);
  assert.deepEqual(loaded.merges, tokenizer.merges);
  assert.equal(loaded.vocabSize, tokenizer.vocabSize);
  assert.deepEqual(loaded.specialTokens, tokenizer.specialTokens);
  assert.deepEqual(loaded.extraSpecialTokens, ["<|tool_call|>"]);
  assert.equal(loaded.addBosToken, false);
  for (const s of corpus.slice(0, 100)) assert.deepEqual(loaded.encode(s, { allowedSpecial: "all" }), tokenizer.encode(s, { allowedSpecial: "all" }));
  assert.equal(serializeTokenizer(loaded), readFileSync(path, "utf8"));
  assert.deepEqual(loaded.toGgufTokenizerMetadata(), tokenizer.toGgufTokenizerMetadata());
  // Saving over an existing file replaces it.
  await saveTokenizer(loaded, path);
  assert.deepEqual(readdirSync(dir), ["tok.json"]);
});

test("the file is versioned JSON with the header first and one merge per line", async () => {
  const { tokenizer } = await trained();
  const text = serializeTokenizer(tokenizer);
  const json = JSON.parse(text) as Record<string, unknown>;
  assert.equal(json.format, "strata.tokenizer");
  assert.equal(json.version, 1);
  assert.deepEqual(Object.keys(json), ["format", "version", "model", "pretokenizer", "vocabSize", "addBosToken", "specialTokens", "merges"]);
  assert.deepEqual(json, tokenizerToJson(tokenizer));
  assert.equal(text.split("\n").filter((line) => /^ {4}\[\d+, \d+\],?$/.test(line)).length, tokenizer.merges.length);
  assert.ok(text.indexOf('"format"') < text.indexOf('"merges"'));
});

test("bad tokenizer files are refused with a clear error naming the file", async () => {
  const { tokenizer } = await trained();
  const good = tokenizerToJson(tokenizer);
  const dir = tempDir();
  const cases: [string, string, string, RegExp][] = [
    ["not-json.json", "{ merges: [", "TOKENIZER_INVALID", /not a tokenizer file \(not JSON/],
    ["hf.json", JSON.stringify({ version: "1.0", model: { type: "BPE", vocab: {}, merges: [] } }), "TOKENIZER_INVALID", /not a Strata tokenizer file/],
    ["array.json", "[]", "TOKENIZER_INVALID", /not a Strata tokenizer file/],
    ["newer.json", JSON.stringify({ ...good, version: 2, somethingNew: true }), "TOKENIZER_TOO_NEW", /format version 2; this Strata reads version 1/],
    ["v0.json", JSON.stringify({ ...good, version: 0 }), "TOKENIZER_INVALID", /unknown format version 0/],
    ["no-merges.json", JSON.stringify({ ...good, merges: undefined }), "TOKENIZER_INVALID", /merges/],
    ["bad-merge.json", JSON.stringify({ ...good, merges: [[1, 2], [1, 999]] }), "TOKENIZER_INVALID", /merge 1 joins tokens 1 and 999/],
    ["repeat.json", JSON.stringify({ ...good, merges: [[1, 2], [1, 2]] }), "TOKENIZER_INVALID", /merge 1 repeats merge 0/],
    ["size.json", JSON.stringify({ ...good, vocabSize: good.vocabSize + 1 }), "TOKENIZER_INVALID", /says vocabSize/],
    ["special-id.json", JSON.stringify({ ...good, specialTokens: good.specialTokens.map((s, i) => (i === 2 ? { ...s, id: 3 } : s)) }), "TOKENIZER_INVALID", /has id 3, expected/],
    ["special-order.json", JSON.stringify({ ...good, specialTokens: [...good.specialTokens].reverse() }), "TOKENIZER_INVALID", /in that order/],
    ["extra-field.json", JSON.stringify({ ...good, vocab: {} }), "TOKENIZER_INVALID", /vocab/],
  ];
  for (const [name, content, code, message] of cases) {
    const path = join(dir, name);
    writeFileSync(path, content);
    await assert.rejects(loadTokenizer(path), (e: unknown) => {
      assert.ok(isStrataError(e), String(e));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      assert.match(e.message, message, name);
      assert.ok(e.message.includes(path), e.message);
      assert.ok(e.hint.length > 0);
      return true;
    });
  }
  await assert.rejects(loadTokenizer(join(dir, "absent.json")), (e: unknown) => isStrataError(e) && e.code === "NOT_FOUND");
});

test("a failed save leaves no temporary file and names the path", async () => {
  const { tokenizer } = await trained();
  const dir = tempDir();
  const path = join(dir, "missing-folder", "tok.json");
  await assert.rejects(saveTokenizer(tokenizer, path), (e: unknown) => isStrataError(e) && e.message.includes(path));
  assert.deepEqual(readdirSync(dir), []);
});
