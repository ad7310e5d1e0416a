// Row kernels — the fused ops that work along the last axis of a contiguous [rows, n] array:
// softmax, log-softmax, RMSNorm, SwiGLU, cross-entropy, RoPE. Each has its forward and a hand-written
// backward. Row statistics (max, sums) are computed in float64.

/** Softmax of each row of x [rows, n]. */
export function softmaxRows(x: Float32Array, rows: number, n: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (x[o + j]! > m) m = x[o + j]!;
    if (m === -Infinity) m = 0; // a fully masked row gives NaN below (0/0), as in PyTorch
    let s = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(x[o + j]! - m);
      y[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < n; j++) y[o + j] = y[o + j]! * inv;
  }
  return y;
}

/** dx = y ∘ (g − Σ_j g_j y_j) per row. */
export function softmaxRowsBackward(g: Float32Array, y: Float32Array, rows: number, n: number): Float32Array {
  const dx = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let dot = 0;
    for (let j = 0; j < n; j++) dot += g[o + j]! * y[o + j]!;
    for (let j = 0; j < n; j++) dx[o + j] = y[o + j]! * (g[o + j]! - dot);
  }
  return dx;
}

/** log-softmax of each row: x − logsumexp(x). */
export function logSoftmaxRows(x: Float32Array, rows: number, n: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    const lse = logSumExp(x, o, n);
    for (let j = 0; j < n; j++) y[o + j] = x[o + j]! - lse;
  }
  return y;
}

/** dx = g − softmax(x) · Σ_j g_j, with softmax = exp(y). */
export function logSoftmaxRowsBackward(g: Float32Array, y: Float32Array, rows: number, n: number): Float32Array {
  const dx = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += g[o + j]!;
    for (let j = 0; j < n; j++) dx[o + j] = g[o + j]! - Math.exp(y[o + j]!) * s;
  }
  return dx;
}

export function logSumExp(x: Float32Array, o: number, n: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) if (x[o + j]! > m) m = x[o + j]!;
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[o + j]! - m);
  return m + Math.log(s);
}

/**
 * RMSNorm: y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps) per row. Returns y and rstd
 * (saved for the backward).
 */
export function rmsNormRows(x: Float32Array, w: Float32Array, rows: number, n: number, eps: number): { y: Float32Array; rstd: Float32Array } {
  const y = new Float32Array(rows * n);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[o + j]! * x[o + j]!;
    const rs = 1 / Math.sqrt(ss / n + eps);
    rstd[r] = rs;
    for (let j = 0; j < n; j++) y[o + j] = x[o + j]! * rs * w[j]!;
  }
  return { y, rstd };
}

/**
 * RMSNorm backward. With x̂ = x·rstd and h = g∘w:
 *   dx = rstd · (h − x̂ · mean(h∘x̂)),   dw = Σ_rows g∘x̂.
 * dw is accumulated in float64 and returned only when asked for.
 */
export function rmsNormRowsBackward(
  g: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, rows: number, n: number, wantDx: boolean, wantDw: boolean,
): { dx: Float32Array | null; dw: Float32Array | null } {
  const dx = wantDx ? new Float32Array(rows * n) : null;
  const dw64 = wantDw ? new Float64Array(n) : null;
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    const rs = rstd[r]!;
    if (dx) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += g[o + j]! * w[j]! * x[o + j]!;
      const c = (dot * rs * rs) / n;
      for (let j = 0; j < n; j++) dx[o + j] = rs * (g[o + j]! * w[j]! - x[o + j]! * c);
    }
    if (dw64) for (let j = 0; j < n; j++) dw64[j] = dw64[j]! + g[o + j]! * x[o + j]! * rs;
  }
  return { dx, dw: dw64 ? Float32Array.from(dw64) : null };
}

/** SwiGLU: y = silu(a) ∘ b elementwise. */
export function swiglu(a: Float32Array, b: Float32Array): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    y[i] = (v / (1 + Math.exp(-v))) * b[i]!;
  }
  return y;
}

/** da = g∘b∘silu'(a), db = g∘silu(a); silu'(a) = s·(1 + a·(1 − s)), s = sigmoid(a). */
export function swigluBackward(g: Float32Array, a: Float32Array, b: Float32Array, wantDa: boolean, wantDb: boolean): { da: Float32Array | null; db: Float32Array | null } {
  const n = g.length;
  const da = wantDa ? new Float32Array(n) : null;
  const db = wantDb ? new Float32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    const s = 1 / (1 + Math.exp(-v));
    if (da) da[i] = g[i]! * b[i]! * s * (1 + v * (1 - s));
    if (db) db[i] = g[i]! * v * s;
  }
  return { da, db };
}

/**
 * Cross-entropy of logits [rows, n] against integer targets, averaged over the rows whose target
 * is not `ignoreIndex`. Returns the mean loss, the number of counted rows, and each row's
 * log-sum-exp (saved for the backward). With no counted rows the loss is 0.
 */
export function crossEntropyRows(
  x: Float32Array, targets: Int32Array, rows: number, n: number, ignoreIndex: number,
): { loss: number; count: number; lse: Float64Array } {
  const lse = new Float64Array(rows);
  let total = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const o = r * n;
    const l = logSumExp(x, o, n);
    lse[r] = l;
    total += l - x[o + t]!;
    count++;
  }
  return { loss: count > 0 ? total / count : 0, count, lse };
}

/** d loss / d x = g · (softmax(x) − onehot(t)) / count on counted rows, 0 on ignored rows. */
export function crossEntropyRowsBackward(
  g: number, x: Float32Array, targets: Int32Array, lse: Float64Array, rows: number, n: number, ignoreIndex: number, count: number,
): Float32Array {
  const dx = new Float32Array(rows * n);
  if (count === 0) return dx;
  const scale = g / count;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const o = r * n;
    const l = lse[r]!;
    for (let j = 0; j < n; j++) dx[o + j] = Math.exp(x[o + j]! - l) * scale;
    dx[o + t] = dx[o + t]! - scale;
  }
  return dx;
}

const ropeTables = new Map<string, { cos: Float32Array; sin: Float32Array; positions: number }>();

/**
 * cos/sin of θ(pos, i) = pos · base^(−2i/d) for pos < positions and i < d/2, as [positions, d/2]
 * tables, computed in float64 and cached per (d, base). Grows the cached table when needed.
 */
/** Frequency changes of scaled RoPE: θ_i = p · scale · base^(−2i/D) / freqFactors[i] (Llama 3.1's rope_freqs, linear scaling). */
export interface RopeScaling {
  freqFactors?: ArrayLike<number>;
  scale?: number;
}

export function ropeTable(d: number, base: number, positions: number, scaling: RopeScaling = {}): { cos: Float32Array; sin: Float32Array } {
  const factors = scaling.freqFactors;
  const scale = scaling.scale ?? 1;
  const key = `${d}:${base}:${scale}:${factors ? Array.from(factors).join(",") : ""}`;
  const have = ropeTables.get(key);
  if (have && have.positions >= positions) return have;
  const n = Math.max(positions, have ? have.positions * 2 : 0, 64);
  const half = d / 2;
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let i = 0; i < half; i++) {
    const freq = (Math.pow(base, (-2 * i) / d) * scale) / (factors ? factors[i]! : 1);
    for (let p = 0; p < n; p++) {
      const a = p * freq;
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  const t = { cos, sin, positions: n };
  ropeTables.set(key, t);
  return t;
}

/**
 * RoPE in llama's interleaved adjacent-pair form on x [B, T, H, D] (contiguous): each pair
 * (x[2i], x[2i+1]) at sequence position p = positions[t] is rotated by θ = p · base^(−2i/D):
 *   y[2i]   = x[2i] cos θ − x[2i+1] sin θ
 *   y[2i+1] = x[2i] sin θ + x[2i+1] cos θ
 * `direction` −1 rotates by −θ (the backward: the rotation's transpose).
 */
export function rope(x: Float32Array, B: number, T: number, H: number, D: number, positions: Int32Array, base: number, direction: 1 | -1, scaling: RopeScaling = {}): Float32Array {
  const y = new Float32Array(x.length);
  const half = D / 2;
  let maxPos = 0;
  for (let t = 0; t < T; t++) maxPos = Math.max(maxPos, positions[t]!);
  const { cos, sin } = ropeTable(D, base, maxPos + 1, scaling);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tb = positions[t]! * half;
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * D;
        for (let i = 0; i < half; i++) {
          const c = cos[tb + i]!;
          const s = direction * sin[tb + i]!;
          const x0 = x[o + 2 * i]!;
          const x1 = x[o + 2 * i + 1]!;
          y[o + 2 * i] = x0 * c - x1 * s;
          y[o + 2 * i + 1] = x0 * s + x1 * c;
        }
      }
    }
  }
  return y;
}
