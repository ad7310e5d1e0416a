// The token dataset: built once (reused when nothing changed), read by windows at offsets, split
// deterministically, encoded in chunks exactly as a whole-text encode, and the bad files refused.
import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { Rng } from "../../src/tensor/index.js";
import { Tokenizer, trainTokenizerFromTexts } from "../../src/tokenizer/index.js";
import { TOKENS_HEADER_BYTES, TokenDataset, buildTokenDataset, sampleBatch } from "../../src/train/index.js";
import { tempDir } from "../helpers/paths.js";
import { sampleText } from "./helpers.js";

const bytes = new Tokenizer({ merges: [] });

describe("token dataset", () => {
  let dir: string;
  before(() => {
    dir = tempDir("strata-dataset-");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a versioned uint16 file, joins files with EOS, reads windows at any offset", async () => {
    const a = join(dir, "a.txt");
    const b = join(dir, "b.txt");
    writeFileSync(a, "\uFEFFhello\n");
    writeFileSync(b, "wörld");
    const { dataset, reused } = await buildTokenDataset([a, b], bytes, join(dir, "d1"));
    try {
      assert.equal(reused, false);
      const expected = [...Buffer.from("hello\n")].concat([bytes.eosId], [...Buffer.from("wörld")]);
      assert.equal(dataset.length, expected.length);
      assert.deepEqual([...dataset.read(0, dataset.length)], expected);
      assert.deepEqual([...dataset.read(3, 4)], expected.slice(3, 7));
      assert.equal(dataset.bytesPerToken, 2);
      const raw = readFileSync(join(dir, "d1", "tokens.bin"));
      assert.equal(raw.subarray(0, 8).toString(), "STRTOKNS");
      assert.equal(raw.length, TOKENS_HEADER_BYTES + 2 * expected.length);
      assert.throws(() => dataset.read(dataset.length - 1, 2), (e: unknown) => e instanceof StrataError && e.code === "INDEX_OUT_OF_RANGE");
    } finally {
      dataset.close();
    }
  });

  it("is built once: reused while files and tokenizer are unchanged, rebuilt when a file changes", async () => {
    const f = join(dir, "r.txt");
    writeFileSync(f, sampleText(3000));
    const first = await buildTokenDataset([f], bytes, join(dir, "d2"));
    first.dataset.close();
    const again = await buildTokenDataset([f], bytes, join(dir, "d2"));
    again.dataset.close();
    assert.equal(again.reused, true);
    writeFileSync(f, sampleText(4000));
    const t = statSync(f).mtime;
    utimesSync(f, t, new Date(t.getTime() + 5000));
    const changed = await buildTokenDataset([f], bytes, join(dir, "d2"));
    assert.equal(changed.reused, false);
    assert.equal(changed.dataset.length, Buffer.byteLength(sampleText(4000)));
    changed.dataset.close();
  });

  it("encodes in chunks exactly as one whole encode (chunks end at line breaks), for a BPE tokenizer", async () => {
    const text = sampleText(20_000, 3);
    const { tokenizer } = await trainTokenizerFromTexts([text], { vocabSize: 330 });
    const f = join(dir, "bpe.txt");
    writeFileSync(f, text);
    const { dataset } = await buildTokenDataset([f], tokenizer, join(dir, "d3"), { chunkBytes: 777 });
    try {
      assert.deepEqual([...dataset.read(0, dataset.length)], tokenizer.encode(text));
    } finally {
      dataset.close();
    }
  });

  it("splits off the last share for validation and samples windows with targets shifted by one", async () => {
    const f = join(dir, "s.txt");
    writeFileSync(f, sampleText(5000));
    const { dataset } = await buildTokenDataset([f], bytes, join(dir, "d4"));
    try {
      const { train, val } = dataset.split(0.1);
      assert.equal(val.length, Math.floor(dataset.length * 0.1));
      assert.equal(train.start + train.length, val.start);
      assert.equal(val.start + val.length, dataset.length);
      const b = sampleBatch(dataset, val, 3, 8, new Rng(2));
      const b2 = sampleBatch(dataset, val, 3, 8, new Rng(2));
      assert.deepEqual(b, b2, "the same generator state draws the same windows");
      assert.deepEqual(b.shape, [3, 8]);
      const all = dataset.read(0, dataset.length);
      for (let r = 0; r < 3; r++) {
        const row = [...b.ids.subarray(r * 8, r * 8 + 8)];
        const start = all.findIndex((_, i) => i >= val.start && i + 8 < dataset.length && row.every((x, k) => all[i + k] === x) && b.targets.subarray(r * 8, r * 8 + 8).every((x, k) => all[i + k + 1] === x));
        assert.ok(start >= val.start, `row ${r} is a window of the validation span with targets one ahead`);
      }
      assert.throws(() => sampleBatch(dataset, { start: 0, length: 8 }, 1, 8, new Rng(1)), /too short/);
    } finally {
      dataset.close();
    }
  });

  it("refuses an empty file, a non-UTF-8 file (naming the byte and offset) and a folder", async () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    await assert.rejects(buildTokenDataset([empty], bytes, join(dir, "d5")), (e: unknown) => e instanceof StrataError && e.code === "EMPTY_FILE" && /empty/.test(e.message));
    const bom = join(dir, "bom.txt");
    writeFileSync(bom, "\uFEFF");
    await assert.rejects(buildTokenDataset([bom], bytes, join(dir, "d5")), (e: unknown) => e instanceof StrataError && e.code === "EMPTY_FILE" && /holds no text/.test(e.message));
    const latin1 = join(dir, "latin1.txt");
    writeFileSync(latin1, Buffer.concat([Buffer.from("caf"), Buffer.from([0xe9]), Buffer.from(" au lait\n")]));
    await assert.rejects(
      buildTokenDataset([latin1], bytes, join(dir, "d5")),
      (e: unknown) => e instanceof StrataError && e.code === "INVALID_UTF8" && /latin1\.txt is not UTF-8 text \(byte 0xe9 at offset 3/.test(e.message) && /iconv/.test(e.hint),
    );
    await assert.rejects(buildTokenDataset([dir], bytes, join(dir, "d5")), (e: unknown) => e instanceof StrataError && e.code === "USAGE" && /folder/.test(e.message));
  });

  it("refuses a damaged token file", () => {
    const p = join(dir, "bad.bin");
    writeFileSync(p, Buffer.alloc(40));
    assert.throws(() => TokenDataset.open(p), /not a Strata token file/);
  });
});
