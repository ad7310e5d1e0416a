// A Fashion-MNIST-shaped folder of a few synthetic images (IDX, gzipped, as Debian ships them), so
// diffusion tests train without the 30 MB dataset: class c is a bright square whose size grows with c.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

function idx(shape: number[], values: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(values)]);
}

export function writeFashionLike(dir: string, count = 40, side = 28): string {
  mkdirSync(dir, { recursive: true });
  for (const split of ["train", "t10k"]) {
    const images = new Uint8Array(count * side * side);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const c = i % 10;
      labels[i] = c;
      const half = 2 + c;
      for (let y = 14 - half; y < 14 + half; y++) for (let x = 14 - half; x < 14 + half; x++) images[i * side * side + y * side + x] = 200;
    }
    writeFileSync(join(dir, `${split}-images-idx3-ubyte.gz`), gzipSync(idx([count, side, side], images)));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte.gz`), gzipSync(idx([count], labels)));
  }
  return dir;
}
