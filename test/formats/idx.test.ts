// The IDX reader (src/formats/idx.ts): a hand-built file round-trips; missing, damaged and
// mismatched files fail with one line naming the file and the fix; the installed Fashion-MNIST
// (Debian's dataset-fashion-mnist, which CI installs) reads with its documented sizes.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { FASHION_MNIST_DIR, parseIdx, readFashionMnist, readIdxFile } from "../../src/formats/idx.js";
import { rejectsWithCode } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";

function idx(shape: number[], values: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(values)]);
}

function writeSet(dir: string, split: string, n: number, labels: number[]): void {
  writeFileSync(join(dir, `${split}-images-idx3-ubyte.gz`), gzipSync(idx([n, 2, 2], Array.from({ length: n * 4 }, (_, i) => i % 256))));
  writeFileSync(join(dir, `${split}-labels-idx1-ubyte.gz`), gzipSync(idx([labels.length], labels)));
}

describe("IDX files", () => {
  it("parses the header and values", () => {
    const a = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), "x");
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
  });

  it("rejects a bad magic number, a non-byte type and short data", () => {
    assert.throws(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), "f"), /magic/);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0), "f"), /unsigned bytes/);
    assert.throws(() => parseIdx(idx([3, 3], [1, 2, 3]), "f"), /promises 9 values/);
  });

  it("reads a set from a folder; a missing file names the apt command", async () => {
    const dir = tempDir("strata-idx-");
    writeSet(dir, "t10k", 3, [0, 9, 4]);
    const set = await readFashionMnist("t10k", dir);
    assert.equal(set.count, 3);
    assert.equal(set.rows, 2);
    assert.deepEqual([...set.labels], [0, 9, 4]);
    assert.equal(set.images[5], 5);
    await rejectsWithCode(readFashionMnist("train", dir), "NOT_FOUND", /train-images-idx3-ubyte\.gz is missing/, /apt-get install dataset-fashion-mnist/);
  });

  it("a damaged gzip, a label outside 0–9 and mismatched counts fail naming the file", async () => {
    const dir = tempDir("strata-idx-");
    writeFileSync(join(dir, "bad.gz"), Buffer.from("not gzip at all"));
    await rejectsWithCode(readIdxFile(join(dir, "bad.gz")), "PARSE_FAILED", /bad\.gz is not a valid gzip file/, /reinstall/);
    writeSet(dir, "train", 2, [1, 12]);
    await rejectsWithCode(readFashionMnist("train", dir), "PARSE_FAILED", /label 12/);
    writeSet(dir, "train", 2, [1, 2, 3]);
    await rejectsWithCode(readFashionMnist("train", dir), "PARSE_FAILED", /3 labels for 2 images/);
  });

  it("reads the installed Fashion-MNIST test split", { skip: existsSync(FASHION_MNIST_DIR) ? false : "dataset-fashion-mnist is not installed" }, async () => {
    const set = await readFashionMnist("t10k");
    assert.equal(set.count, 10000);
    assert.equal(set.rows, 28);
    assert.equal(set.cols, 28);
    const perClass = new Array<number>(10).fill(0);
    for (const l of set.labels) perClass[l]!++;
    assert.deepEqual(perClass, new Array<number>(10).fill(1000));
  });
});
