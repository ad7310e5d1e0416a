// ggml's K-quants (super-blocks of 256 values, ggml-common.h): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, both
// ways. The decoders follow ggml's dequantize_row_*; the encoders are simple (per-sub-block min/max,
// no search for the best scales, unlike ggml's make_qx_quants) but write exactly ggml's layout, so
// llama.cpp reads what they write. Every multi-byte field is little-endian.
import { f16ToF32, f32ToF16 } from "./half.js";

export const QK_K = 256;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const round = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
/** A value as stored in f16 and read back, so encoders quantize against the scale the decoder sees. */
const viaF16 = (x: number): number => f16ToF32(f32ToF16(x));

/**
 * Asymmetric sub-block quantization (value ≈ d·sc·q − dmin·m): per sub-block of `n` values the
 * scale and offset, then super-block d and dmin so that sc ≤ scMax and m ≤ mMax, and the quants in
 * 0…qMax. Returns d, dmin, sc[], m[], q[].
 */
function asymmetric(x: Float32Array, off: number, n: number, qMax: number, scMax: number, mMax: number) {
  const subs = QK_K / n;
  const s = new Float32Array(subs);
  const mn = new Float32Array(subs);
  for (let j = 0; j < subs; j++) {
    let lo = 0;
    let hi = -Infinity;
    for (let l = 0; l < n; l++) {
      const v = x[off + j * n + l]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    mn[j] = -lo;
    s[j] = (hi - lo) / qMax;
  }
  const d = viaF16(Math.max(...s) / scMax);
  const dmin = viaF16(Math.max(...mn) / mMax);
  const sc = new Uint8Array(subs);
  const m = new Uint8Array(subs);
  const q = new Uint8Array(QK_K);
  for (let j = 0; j < subs; j++) {
    sc[j] = d > 0 ? clamp(round(s[j]! / d), 0, scMax) : 0;
    m[j] = dmin > 0 ? clamp(round(mn[j]! / dmin), 0, mMax) : 0;
    const step = d * sc[j]!;
    const shift = dmin * m[j]!;
    for (let l = 0; l < n; l++) q[j * n + l] = step > 0 ? clamp(round((x[off + j * n + l]! + shift) / step), 0, qMax) : 0;
  }
  return { d, dmin, sc, m, q };
}

/** Symmetric sub-blocks (value = d·sc·q): signed scales in scMin…scMax, quants in qMin…qMax. */
function symmetric(x: Float32Array, off: number, n: number, qMin: number, qMax: number, scMin: number, scMax: number) {
  const subs = QK_K / n;
  const s = new Float32Array(subs);
  for (let j = 0; j < subs; j++) {
    let max = 0;
    for (let l = 0; l < n; l++) {
      const v = x[off + j * n + l]!;
      if (Math.abs(v) > Math.abs(max)) max = v;
    }
    s[j] = max / qMin; // the largest magnitude maps to qMin, the wider side of the range
  }
  let amax = 0;
  for (const v of s) amax = Math.max(amax, Math.abs(v));
  const d = viaF16(amax / -scMin);
  const sc = new Int8Array(subs);
  const q = new Int8Array(QK_K);
  for (let j = 0; j < subs; j++) {
    sc[j] = d > 0 ? clamp(round(s[j]! / d), scMin, scMax) : 0;
    const step = d * sc[j]!;
    for (let l = 0; l < n; l++) q[j * n + l] = step !== 0 ? clamp(round(x[off + j * n + l]! / step), qMin, qMax) : 0;
  }
  return { d, sc, q };
}

function blocks(x: Float32Array, size: number, each: (off: number, out: Uint8Array, o: number, dv: DataView) => void): Uint8Array {
  const out = new Uint8Array((x.length / QK_K) * size);
  const dv = view(out);
  for (let off = 0, o = 0; off < x.length; off += QK_K, o += size) each(off, out, o, dv);
  return out;
}

// ------------------------------------------------------------ Q2_K: scales[16] qs[64] d dmin (84 bytes)
// Sub-block i (16 values) = half n = i>>3, shift 2·((i>>1)&3), bytes qs[n·32 + (i&1)·16 + l].
export function quantizeQ2_K(x: Float32Array): Uint8Array {
  return blocks(x, 84, (off, out, o, dv) => {
    const { d, dmin, sc, m, q } = asymmetric(x, off, 16, 3, 15, 15);
    for (let i = 0; i < 16; i++) {
      out[o + i] = sc[i]! | (m[i]! << 4);
      const byte = o + 16 + (i >> 3) * 32 + (i & 1) * 16;
      for (let l = 0; l < 16; l++) out[byte + l]! |= q[i * 16 + l]! << (2 * ((i >> 1) & 3));
    }
    dv.setUint16(o + 80, f32ToF16(d), true);
    dv.setUint16(o + 82, f32ToF16(dmin), true);
  });
}

export function dequantizeQ2_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += 84) {
    const d = f16ToF32(dv.getUint16(o + 80, true));
    const dmin = f16ToF32(dv.getUint16(o + 82, true));
    for (let i = 0; i < 16; i++) {
      const s = bytes[o + i]!;
      const dl = d * (s & 0xf);
      const ml = dmin * (s >> 4);
      const byte = o + 16 + (i >> 3) * 32 + (i & 1) * 16;
      const shift = 2 * ((i >> 1) & 3);
      for (let l = 0; l < 16; l++) out[b + i * 16 + l] = dl * ((bytes[byte + l]! >> shift) & 3) - ml;
    }
  }
  return out;
}

// ------------------------------------------------------------ Q3_K: hmask[32] qs[64] scales[12] d (110 bytes)
// 16 signed 6-bit scales (stored +32): low 4 bits in scales[0..7] (low nibble i<8, high nibble i−8),
// high 2 bits in scales[8 + i%4] at bit 2·⌊i/4⌋. Quant = low 2 bits − (hmask bit ? 0 : 4).
export function quantizeQ3_K(x: Float32Array): Uint8Array {
  return blocks(x, 110, (off, out, o, dv) => {
    const { d, sc, q } = symmetric(x, off, 16, -4, 3, -32, 31);
    for (let i = 0; i < 16; i++) {
      const s = sc[i]! + 32;
      out[o + 96 + (i & 7)]! |= (s & 0xf) << (i < 8 ? 0 : 4);
      out[o + 104 + (i & 3)]! |= (s >> 4) << (2 * (i >> 2));
      const n = i >> 3;
      const j = (i >> 1) & 3;
      const byte = (i & 1) * 16;
      for (let l = 0; l < 16; l++) {
        const L = q[i * 16 + l]! + 4;
        out[o + 32 + n * 32 + byte + l]! |= (L & 3) << (2 * j);
        if (L >= 4) out[o + byte + l]! |= 1 << (n * 4 + j);
      }
    }
    dv.setUint16(o + 108, f32ToF16(d), true);
  });
}

export function dequantizeQ3_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += 110) {
    const d = f16ToF32(dv.getUint16(o + 108, true));
    for (let i = 0; i < 16; i++) {
      const low = (bytes[o + 96 + (i & 7)]! >> (i < 8 ? 0 : 4)) & 0xf;
      const high = (bytes[o + 104 + (i & 3)]! >> (2 * (i >> 2))) & 3;
      const dl = d * ((low | (high << 4)) - 32);
      const n = i >> 3;
      const j = (i >> 1) & 3;
      const byte = (i & 1) * 16;
      const mask = 1 << (n * 4 + j);
      for (let l = 0; l < 16; l++) {
        const lo = (bytes[o + 32 + n * 32 + byte + l]! >> (2 * j)) & 3;
        out[b + i * 16 + l] = dl * (lo - (bytes[o + byte + l]! & mask ? 0 : 4));
      }
    }
  }
  return out;
}

// ------------------------------------------------------------ Q4_K / Q5_K: d dmin scales[12] [qh[32]] qs[128]
/** The 6-bit scale and min of sub-block j from the 12 packed bytes at `s` (ggml's get_scale_min_k4). */
export function scaleMinK4(bytes: Uint8Array, s: number, j: number): [scale: number, min: number] {
  if (j < 4) return [bytes[s + j]! & 63, bytes[s + j + 4]! & 63];
  const scale = (bytes[s + j + 4]! & 0x0f) | ((bytes[s + j - 4]! >> 6) << 4);
  const min = (bytes[s + j + 4]! >> 4) | ((bytes[s + j]! >> 6) << 4);
  return [scale, min];
}

function packScaleMinK4(out: Uint8Array, s: number, sc: Uint8Array, m: Uint8Array): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[s + j] = sc[j]!;
      out[s + j + 4] = m[j]!;
    } else {
      out[s + j + 4] = (sc[j]! & 0xf) | ((m[j]! & 0xf) << 4);
      out[s + j - 4]! |= (sc[j]! >> 4) << 6;
      out[s + j]! |= (m[j]! >> 4) << 6;
    }
  }
}

/** Q4_K (bits 4, 144 bytes) and Q5_K (bits 5, 176 bytes): sub-block k = 2·pair + half uses qs[pair·32 + l]'s low (half 0) or high nibble, and Q5_K's qh[l] bit k. */
function quantizeK45(x: Float32Array, bits: 4 | 5): Uint8Array {
  const size = bits === 4 ? 144 : 176;
  const qs = bits === 4 ? 16 : 48;
  return blocks(x, size, (off, out, o, dv) => {
    const { d, dmin, sc, m, q } = asymmetric(x, off, 32, (1 << bits) - 1, 63, 63);
    dv.setUint16(o, f32ToF16(d), true);
    dv.setUint16(o + 2, f32ToF16(dmin), true);
    packScaleMinK4(out, o + 4, sc, m);
    for (let k = 0; k < 8; k++) {
      const byte = o + qs + (k >> 1) * 32;
      for (let l = 0; l < 32; l++) {
        const v = q[k * 32 + l]!;
        out[byte + l]! |= (v & 0xf) << ((k & 1) * 4);
        if (bits === 5 && v & 16) out[o + 16 + l]! |= 1 << k;
      }
    }
  });
}

function dequantizeK45(bytes: Uint8Array, count: number, bits: 4 | 5): Float32Array {
  const size = bits === 4 ? 144 : 176;
  const qs = bits === 4 ? 16 : 48;
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += size) {
    const d = f16ToF32(dv.getUint16(o, true));
    const dmin = f16ToF32(dv.getUint16(o + 2, true));
    for (let k = 0; k < 8; k++) {
      const [scale, min] = scaleMinK4(bytes, o + 4, k);
      const dl = d * scale;
      const ml = dmin * min;
      const byte = o + qs + (k >> 1) * 32;
      for (let l = 0; l < 32; l++) {
        let v = (bytes[byte + l]! >> ((k & 1) * 4)) & 0xf;
        if (bits === 5 && bytes[o + 16 + l]! & (1 << k)) v += 16;
        out[b + k * 32 + l] = dl * v - ml;
      }
    }
  }
  return out;
}

export const quantizeQ4_K = (x: Float32Array): Uint8Array => quantizeK45(x, 4);
export const dequantizeQ4_K = (bytes: Uint8Array, count: number): Float32Array => dequantizeK45(bytes, count, 4);
export const quantizeQ5_K = (x: Float32Array): Uint8Array => quantizeK45(x, 5);
export const dequantizeQ5_K = (bytes: Uint8Array, count: number): Float32Array => dequantizeK45(bytes, count, 5);

// ------------------------------------------------------------ Q6_K: ql[128] qh[64] scales[16] d (210 bytes)
// Half n (128 values), quarter k, position l < 32 → value n·128 + 32k + l: low 4 bits in
// ql[n·64 + (k&1)·32 + l] (low nibble for k < 2), high 2 bits in qh[n·32 + l] at bit 2k; scale
// index n·8 + 2k + ⌊l/16⌋ (one int8 per 16 values). Value = d·scale·(q − 32).
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  return blocks(x, 210, (off, out, o, dv) => {
    const { d, sc, q } = symmetric(x, off, 16, -32, 31, -128, 127);
    for (let i = 0; i < 16; i++) dv.setInt8(o + 192 + i, sc[i]!);
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 4; k++) {
        for (let l = 0; l < 32; l++) {
          const v = q[n * 128 + 32 * k + l]! + 32;
          out[o + n * 64 + (k & 1) * 32 + l]! |= (v & 0xf) << (k < 2 ? 0 : 4);
          out[o + 128 + n * 32 + l]! |= (v >> 4) << (2 * k);
        }
      }
    }
    dv.setUint16(o + 208, f32ToF16(d), true);
  });
}

export function dequantizeQ6_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const dv = view(bytes);
  for (let b = 0, o = 0; b < count; b += QK_K, o += 210) {
    const d = f16ToF32(dv.getUint16(o + 208, true));
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 4; k++) {
        for (let l = 0; l < 32; l++) {
          const lo = (bytes[o + n * 64 + (k & 1) * 32 + l]! >> (k < 2 ? 0 : 4)) & 0xf;
          const hi = (bytes[o + 128 + n * 32 + l]! >> (2 * k)) & 3;
          out[b + n * 128 + 32 * k + l] = d * dv.getInt8(o + 192 + n * 8 + 2 * k + (l >> 4)) * ((lo | (hi << 4)) - 32);
        }
      }
    }
  }
  return out;
}
