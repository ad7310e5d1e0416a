// IDX files (the MNIST family's format, gzipped as Debian ships them): a big-endian header — two zero
// bytes, a type byte (0x08 = unsigned bytes), the number of dimensions — then one 32-bit size per
// dimension and the values row-major. Fashion-MNIST's four files are read from one folder, by
// default where Debian's dataset-fashion-mnist package puts them. A missing file names the apt
// command; a damaged one (bad gzip, bad header, short data) says which file and what is wrong.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { StrataError } from "../core/errors.js";

/** Where `apt-get install dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
const APT_HINT = "install it with `apt-get install dataset-fashion-mnist`, or pass --data <folder> holding the four *-ubyte.gz files";

/** The ten Fashion-MNIST classes, by label. */
export const FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"] as const;

export interface IdxArray {
  /** Sizes of the dimensions, e.g. [60000, 28, 28]. */
  shape: number[];
  data: Uint8Array;
}

/** Parses the (already gunzipped) bytes of an unsigned-byte IDX file. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const bad = (what: string): StrataError => new StrataError("PARSE_FAILED", `${source} is not a valid IDX file: ${what}`, `the file is damaged: reinstall it (apt-get install --reinstall dataset-fashion-mnist)`);
  if (bytes.length < 4) throw bad(`only ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad("the magic number does not start with two zero bytes");
  if (bytes[2] !== 0x08) throw bad(`value type 0x${bytes[2]!.toString(16)} is not unsigned bytes (0x08)`);
  const ndim = bytes[3]!;
  if (ndim < 1 || ndim > 4) throw bad(`${ndim} dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) throw bad("the header is cut short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerLen + n) throw bad(`the header promises ${n} values of shape [${shape.join(", ")}] but ${bytes.length - headerLen} follow`);
  return { shape, data: bytes.subarray(headerLen) };
}

/** Reads a gzipped (name ending in .gz) or plain IDX file. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `dataset file ${path} is missing`, APT_HINT);
    throw new StrataError("UNREADABLE", `cannot read ${path}: ${(e as Error).message}`, "check its permissions");
  }
  let bytes: Uint8Array = raw;
  if (path.endsWith(".gz")) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new StrataError("PARSE_FAILED", `${path} is not a valid gzip file: ${(e as Error).message}`, "the file is damaged: reinstall it (apt-get install --reinstall dataset-fashion-mnist)");
    }
  }
  return parseIdx(bytes, path);
}

export interface LabelledImages {
  /** n × rows × cols bytes, 0 = background. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** One split ("train": 60,000 images, "t10k": 10,000) of Fashion-MNIST from `dir` (default: Debian's folder). */
export async function readFashionMnist(split: "train" | "t10k", dir: string = FASHION_MNIST_DIR): Promise<LabelledImages> {
  const imgPath = join(dir, `${split}-images-idx3-ubyte.gz`);
  const lblPath = join(dir, `${split}-labels-idx1-ubyte.gz`);
  const img = await readIdxFile(imgPath);
  const lbl = await readIdxFile(lblPath);
  if (img.shape.length !== 3) throw new StrataError("PARSE_FAILED", `${imgPath} holds shape [${img.shape.join(", ")}], not [count, rows, cols]`, "point --data at the Fashion-MNIST folder");
  if (lbl.shape.length !== 1 || lbl.shape[0] !== img.shape[0]) {
    throw new StrataError("PARSE_FAILED", `${lblPath} holds ${lbl.shape.join("×")} labels for ${img.shape[0]} images`, "the two files come from different sets: reinstall dataset-fashion-mnist");
  }
  for (let i = 0; i < lbl.data.length; i++) {
    if (lbl.data[i]! >= FASHION_CLASSES.length) throw new StrataError("PARSE_FAILED", `${lblPath}: label ${lbl.data[i]} at ${i} is not a class 0–9`, "the file is damaged: reinstall dataset-fashion-mnist");
  }
  return { images: img.data, labels: lbl.data, count: img.shape[0]!, rows: img.shape[1]!, cols: img.shape[2]! };
}
