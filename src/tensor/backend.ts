// Kernel backends. Every op has a plain-TypeScript reference kernel; a backend supplies the hot ones:
// GEMM (which also carries matmul's batches), RMSNorm, SwiGLU, cross-entropy and attention, forward
// and backward. The "reference" backend is plain TS on one thread; "openblas" is the optional native
// addon (src/tensor/native/): OpenBLAS's sgemm plus C row kernels, both on every core
// (see docs/decisions/0003-tensor-fast-path.md).
//
// "auto" (the default) uses OpenBLAS when the addon was built (`node src/tensor/native/build.mjs`)
// and loads, and otherwise falls back to the reference — silently for results, but with one
// process warning naming the reason, so a slow run is explained.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StrataError } from "../core/errors.js";
import { type AttentionDims, type HeadView, attentionBackward, attentionForward } from "./kernels/attention.js";
import { type Gemm, referenceGemm } from "./kernels/gemm.js";
import { type AdamWStep, adamwReference, scaleReference, sumSquaresReference } from "./kernels/optim.js";
import { type QuantType, QUANT_TYPE_ID, checkQmatmulArgs, qmatmulReference } from "./kernels/quant.js";
import { crossEntropyRows, crossEntropyRowsBackward, rmsNormRows, rmsNormRowsBackward, swiglu, swigluBackward } from "./kernels/rows.js";

export type BackendName = "reference" | "openblas";

type GemmBatch = (
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, aOffs: Float64Array, lda: number, b: Float32Array, bOffs: Float64Array, ldb: number,
  beta: number, c: Float32Array, cOffs: Float64Array, ldc: number,
) => void;

/** The hot kernels. Arrays are contiguous row-major; see kernels/rows.ts and kernels/attention.ts for the math. */
export interface Backend {
  readonly name: BackendName;
  /** One product: C = alpha·op(A)·op(B) + beta·C. */
  readonly gemm: Gemm;
  /**
   * The same product for each triple of offsets, in order (a C offset may repeat: with beta = 1 the
   * products accumulate there). Offsets are element offsets into a, b and c.
   */
  readonly gemmBatch: GemmBatch;
  rmsNorm(x: Float32Array, w: Float32Array, rows: number, n: number, eps: number): { y: Float32Array; rstd: Float32Array };
  rmsNormBackward(g: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, rows: number, n: number, wantDx: boolean, wantDw: boolean): { dx: Float32Array | null; dw: Float32Array | null };
  swiglu(a: Float32Array, b: Float32Array): Float32Array;
  swigluBackward(g: Float32Array, a: Float32Array, b: Float32Array, wantDa: boolean, wantDb: boolean): { da: Float32Array | null; db: Float32Array | null };
  /** Mean loss over counted rows, their count, and each counted row's log-sum-exp. */
  crossEntropy(x: Float32Array, targets: Int32Array, rows: number, n: number, ignoreIndex: number): { loss: number; count: number; lse: Float64Array };
  crossEntropyBackward(g: number, x: Float32Array, targets: Int32Array, lse: Float64Array, rows: number, n: number, ignoreIndex: number, count: number): Float32Array;
  attention(q: HeadView, k: HeadView, v: HeadView, dims: AttentionDims): { out: Float32Array; lse: Float32Array };
  attentionBackward(
    dout: Float32Array, out: Float32Array, lse: Float32Array, q: HeadView, k: HeadView, v: HeadView, dims: AttentionDims, want: { q: boolean; k: boolean; v: boolean },
  ): { dq: Float32Array | null; dk: Float32Array | null; dv: Float32Array | null };
  /** y [rows, out] = x [rows, in] (from xOff) · Wᵀ, W [out, in] in GGUF `type` blocks; x is quantized to Q8_0 first (kernels/quant.ts). */
  qmatmul(type: QuantType, w: Uint8Array, outF: number, inF: number, x: Float32Array, xOff: number, rows: number): Float32Array;
  /** One AdamW update in place (kernels/optim.ts); p, g, m and v have equal lengths. */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, step: AdamWStep): void;
  /** Σ g² in float64. */
  sumSquares(g: Float32Array): number;
  /** g ← g · s in place. */
  scale(g: Float32Array, s: number): void;
}

/** The addon's exports (src/tensor/native/binding.c). */
interface NativeAddon {
  sgemm: Gemm;
  sgemmBatch: GemmBatch;
  rmsNormForward(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, rows: number, n: number, eps: number): void;
  rmsNormBackward(g: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array | null, dw: Float32Array | null, rows: number, n: number): void;
  swigluForward(a: Float32Array, b: Float32Array, y: Float32Array): void;
  swigluBackward(g: Float32Array, a: Float32Array, b: Float32Array, da: Float32Array | null, db: Float32Array | null): void;
  crossEntropyForward(x: Float32Array, targets: Int32Array, lse: Float64Array, rows: number, n: number, ignore: number): number;
  crossEntropyBackward(scale: number, x: Float32Array, targets: Int32Array, lse: Float64Array, dx: Float32Array, rows: number, n: number, ignore: number): void;
  attentionForward(dims: Float64Array, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array): void;
  attentionBackward(
    dims: Float64Array, q: Float32Array, k: Float32Array, v: Float32Array, dout: Float32Array, out: Float32Array, lse: Float32Array,
    dq: Float32Array | null, dk: Float32Array | null, dv: Float32Array | null,
  ): void;
  qmatmul(type: number, w: Uint8Array, outF: number, inF: number, x: Float32Array, xOff: number, rows: number, y: Float32Array): void;
  qmatmulConfig(forcePortable?: boolean): string;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, hp: Float64Array): void;
  sumSquares(g: Float32Array): number;
  scale(g: Float32Array, s: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}

export const referenceBackend: Backend = {
  name: "reference",
  gemm: referenceGemm,
  gemmBatch: (ta, tb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc) => {
    for (let i = 0; i < ao.length; i++) referenceGemm(ta, tb, m, n, k, alpha, a, ao[i]!, lda, b, bo[i]!, ldb, beta, c, co[i]!, ldc);
  },
  rmsNorm: rmsNormRows,
  rmsNormBackward: rmsNormRowsBackward,
  swiglu,
  swigluBackward,
  crossEntropy: crossEntropyRows,
  crossEntropyBackward: crossEntropyRowsBackward,
  attention: (q, k, v, dims) => attentionForward(referenceGemm, q, k, v, dims),
  attentionBackward: (dout, out, lse, q, k, v, dims, want) => attentionBackward(referenceGemm, dout, out, lse, q, k, v, dims, want),
  qmatmul: qmatmulReference,
  adamw: adamwReference,
  sumSquares: sumSquaresReference,
  scale: scaleReference,
};

let native: NativeAddon | null | undefined; // undefined: not tried yet
let nativeError = "";

function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const rel = join("native", "build", "Release", "strata_native.node");
  const out = [join(here, rel)];
  // Compiled code runs from dist/src/tensor/; the addon is built beside the sources, in
  // <package root>/src/tensor/native/, so look there in every folder above this one.
  for (let dir = here; ; ) {
    out.push(join(dir, "src", "tensor", rel));
    const up = dirname(dir);
    if (up === dir) return out;
    dir = up;
  }
}

function loadNative(): NativeAddon | null {
  if (native !== undefined) return native;
  const path = addonCandidates().find((p) => existsSync(p));
  if (!path) {
    nativeError = "the OpenBLAS addon is not built (run `node src/tensor/native/build.mjs`; it needs Debian's libopenblas-dev)";
    native = null;
    return native;
  }
  try {
    native = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    nativeError = `the OpenBLAS addon at ${path} does not load: ${e instanceof Error ? e.message : String(e)}`;
    native = null;
  }
  return native;
}

function attnDims(q: HeadView, k: HeadView, v: HeadView, d: AttentionDims): Float64Array {
  return Float64Array.of(q.offset, q.sB, q.sT, q.sH, k.offset, k.sB, k.sT, k.sH, v.offset, v.sB, v.sT, v.sH, d.B, d.T, d.S, d.Hq, d.Hkv, d.D, d.scale, d.causal ? 1 : 0);
}

function nativeBackend(addon: NativeAddon): Backend {
  return {
    name: "openblas",
    gemm: addon.sgemm,
    gemmBatch: addon.sgemmBatch,
    rmsNorm: (x, w, rows, n, eps) => {
      const y = new Float32Array(rows * n);
      const rstd = new Float32Array(rows);
      addon.rmsNormForward(x, w, y, rstd, rows, n, eps);
      return { y, rstd };
    },
    rmsNormBackward: (g, x, w, rstd, rows, n, wantDx, wantDw) => {
      const dx = wantDx ? new Float32Array(rows * n) : null;
      const dw = wantDw ? new Float32Array(n) : null;
      addon.rmsNormBackward(g, x, w, rstd, dx, dw, rows, n);
      return { dx, dw };
    },
    swiglu: (a, b) => {
      const y = new Float32Array(a.length);
      addon.swigluForward(a, b, y);
      return y;
    },
    swigluBackward: (g, a, b, wantDa, wantDb) => {
      const da = wantDa ? new Float32Array(g.length) : null;
      const db = wantDb ? new Float32Array(g.length) : null;
      addon.swigluBackward(g, a, b, da, db);
      return { da, db };
    },
    crossEntropy: (x, targets, rows, n, ignore) => {
      const lse = new Float64Array(rows);
      const total = addon.crossEntropyForward(x, targets, lse, rows, n, ignore);
      let count = 0;
      for (let r = 0; r < rows; r++) if (targets[r] !== ignore) count++;
      return { loss: count > 0 ? total / count : 0, count, lse };
    },
    crossEntropyBackward: (g, x, targets, lse, rows, n, ignore, count) => {
      const dx = new Float32Array(rows * n);
      if (count > 0) addon.crossEntropyBackward(g / count, x, targets, lse, dx, rows, n, ignore);
      return dx;
    },
    attention: (q, k, v, dims) => {
      const out = new Float32Array(dims.B * dims.T * dims.Hq * dims.D);
      const lse = new Float32Array(dims.B * dims.Hq * dims.T);
      addon.attentionForward(attnDims(q, k, v, dims), q.data, k.data, v.data, out, lse);
      return { out, lse };
    },
    attentionBackward: (dout, out, lse, q, k, v, dims, want) => {
      const dq = want.q ? new Float32Array(dims.B * dims.T * dims.Hq * dims.D) : null;
      const dk = want.k ? new Float32Array(dims.B * dims.S * dims.Hkv * dims.D) : null;
      const dv = want.v ? new Float32Array(dims.B * dims.S * dims.Hkv * dims.D) : null;
      addon.attentionBackward(attnDims(q, k, v, dims), q.data, k.data, v.data, dout, out, lse, dq, dk, dv);
      return { dq, dk, dv };
    },
    qmatmul: (type, w, outF, inF, x, xOff, rows) => {
      if (typeof addon.qmatmul !== "function") return qmatmulReference(type, w, outF, inF, x, xOff, rows); // an addon built before qmatmul existed
      checkQmatmulArgs(type, w, outF, inF, x, xOff, rows);
      const y = new Float32Array(rows * outF);
      addon.qmatmul(QUANT_TYPE_ID[type], w, outF, inF, x, xOff, rows, y);
      return y;
    },
    // An addon built before these existed falls back to the reference loops.
    adamw: typeof addon.adamw !== "function" ? adamwReference : (p, g, m, v, h) => {
      if (g.length !== p.length || m.length !== p.length || v.length !== p.length) throw new RangeError(`adamw: lengths differ (${p.length}, ${g.length}, ${m.length}, ${v.length})`);
      addon.adamw(p, g, m, v, Float64Array.of(h.b1, h.b2, h.c1, h.c2, h.keep, h.stepSize, h.bc2Sqrt, h.eps));
    },
    sumSquares: typeof addon.sumSquares !== "function" ? sumSquaresReference : (g) => addon.sumSquares(g),
    scale: typeof addon.scale !== "function" ? scaleReference : (g, s) => addon.scale(g, s),
  };
}

let active: Backend | null = null;
let warned = false;

/** The backend ops run on now. The first call resolves "auto". */
export function backend(): Backend {
  if (active) return active;
  const addon = loadNative();
  if (addon) active = nativeBackend(addon);
  else {
    active = referenceBackend;
    if (!warned) {
      warned = true;
      process.emitWarning(`Strata tensors use the plain-TypeScript kernels: ${nativeError}`, { code: "STRATA_NO_FAST_PATH" });
    }
  }
  return active;
}

/**
 * Chooses the kernels: "reference" (plain TS, always available), "openblas" (throws when the addon
 * is unavailable) or "auto" (OpenBLAS when available). Returns the backend now in use.
 */
export function setBackend(name: BackendName | "auto"): Backend {
  if (name === "reference") active = referenceBackend;
  else if (name === "auto") {
    active = null;
    return backend();
  } else {
    const addon = loadNative();
    if (!addon) throw new StrataError("BACKEND_UNAVAILABLE", `the OpenBLAS fast path is unavailable: ${nativeError}`, "use the reference backend, or install libopenblas-dev and build the addon");
    active = nativeBackend(addon);
  }
  return active;
}

/** Runs fn with a given backend, then restores the previous one. */
export function withBackend<T>(name: BackendName, fn: () => T): T {
  const prev = active;
  setBackend(name);
  try {
    return fn();
  } finally {
    active = prev;
  }
}

export interface BackendInfo {
  active: BackendName;
  /** Whether the OpenBLAS addon is built and loads. */
  nativeAvailable: boolean;
  /** Why it is not, when it is not. */
  nativeError?: string;
  /** OpenBLAS's build configuration and thread count, when loaded. */
  blasConfig?: string;
  threads?: number;
}

export function backendInfo(): BackendInfo {
  const addon = loadNative();
  const info: BackendInfo = { active: backend().name, nativeAvailable: addon !== null };
  if (addon) {
    info.blasConfig = addon.config();
    info.threads = addon.getThreads();
  } else info.nativeError = nativeError;
  return info;
}

/** Sets the number of threads of the native fast path (OpenBLAS and the kernel pool; default: every core). No effect on the reference backend. */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new StrataError("USAGE", `threads must be a positive integer, got ${n}`, "pass 1 or more");
  loadNative()?.setThreads(n);
}

/**
 * Which version of the native quantized product runs: "AVX2" or "portable C" ("reference" without
 * the addon). `forcePortable` switches the addon to its portable C version (tests); false restores it.
 */
export function quantizedKernel(forcePortable = false): string {
  const addon = loadNative();
  return addon && typeof addon.qmatmulConfig === "function" ? addon.qmatmulConfig(forcePortable) : "reference";
}
