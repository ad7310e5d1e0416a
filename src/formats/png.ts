// Greyscale images to PNG through pngjs (a maintained encoder): one image or a grid of them, values
// in [−1, 1] mapped to 0–255.

import pngjs from "pngjs";

/** Tiles `count` square greyscale images (side × side floats in [−1, 1], consecutive) into `cols` columns with a 2-pixel gap, scaled up `scale` times. */
export function encodeGreyGrid(pixels: Float32Array, count: number, side: number, cols: number, scale = 1): Buffer {
  const c = Math.max(1, Math.min(cols, count));
  const rows = Math.ceil(count / c);
  const gap = count > 1 ? 2 : 0;
  const cell = side * scale;
  const width = c * cell + (c - 1) * gap;
  const height = rows * cell + (rows - 1) * gap;
  const png = new pngjs.PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height, 255);
  for (let i = 0; i < count; i++) {
    const ox = (i % c) * (cell + gap);
    const oy = Math.floor(i / c) * (cell + gap);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const v = pixels[i * side * side + Math.floor(y / scale) * side + Math.floor(x / scale)]!;
        png.data[(oy + y) * width + ox + x] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
      }
    }
  }
  return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
}

/** Decodes a PNG to its width, height and 8-bit RGBA pixels (for tests and tools). */
export function decodePng(bytes: Buffer): { width: number; height: number; rgba: Buffer } {
  const p = pngjs.PNG.sync.read(bytes);
  return { width: p.width, height: p.height, rgba: p.data };
}
