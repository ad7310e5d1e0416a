// General matrix multiply, BLAS convention, row-major:
//
//   C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C
//
// op(X) is X or Xᵀ. A matrix lives in a Float32Array at an element offset with a leading dimension
// (the distance between the starts of consecutive stored rows), so views — a head inside a
// [B, T, H, D] tensor, a transposed weight — are multiplied in place without copies.
// This file is the plain-TypeScript reference; a backend may provide a faster `Gemm` (OpenBLAS).

export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
) => void;

/** Throws unless every element the call touches lies inside its array (what the native path relies on too). */
export function checkGemmArgs(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, aOff: number, lda: number, b: Float32Array, bOff: number, ldb: number,
  c: Float32Array, cOff: number, ldc: number,
): void {
  const fits = (x: Float32Array, off: number, rows: number, cols: number, ld: number, name: string): void => {
    if (rows === 0 || cols === 0) return;
    if (!Number.isInteger(off) || off < 0 || ld < cols || off + (rows - 1) * ld + cols > x.length) {
      throw new RangeError(`gemm: ${name} (${rows}×${cols}, offset ${off}, ld ${ld}) does not fit its array of ${x.length}`);
    }
  };
  if (!(m >= 0 && n >= 0 && k >= 0)) throw new RangeError(`gemm: negative size ${m}×${n}×${k}`);
  fits(a, aOff, transA ? k : m, transA ? m : k, lda, "A");
  fits(b, bOff, transB ? n : k, transB ? k : n, ldb, "B");
  fits(c, cOff, m, n, ldc, "C");
}

/**
 * The reference GEMM. Loop orders keep the innermost loop on contiguous memory: row saxpy for
 * A·B and Aᵀ·B, dot products for A·Bᵀ. Products accumulate in float32 (like BLAS) except the dot
 * products, which accumulate in float64.
 */
export const referenceGemm: Gemm = (transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) => {
  checkGemmArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  // C = beta·C first (beta = 0 overwrites, even NaNs, as BLAS does).
  for (let i = 0; i < m; i++) {
    const r = cOff + i * ldc;
    if (beta === 0) c.fill(0, r, r + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[r + j] = (c[r + j] as number) * beta;
  }
  if (k === 0 || alpha === 0) return;
  if (!transB) {
    // C[i, :] += alpha · op(A)[i, p] · B[p, :]
    for (let i = 0; i < m; i++) {
      const cr = cOff + i * ldc;
      for (let p = 0; p < k; p++) {
        const av = alpha * (transA ? (a[aOff + p * lda + i] as number) : (a[aOff + i * lda + p] as number));
        if (av === 0) continue;
        const br = bOff + p * ldb;
        for (let j = 0; j < n; j++) c[cr + j] = (c[cr + j] as number) + av * (b[br + j] as number);
      }
    }
  } else if (!transA) {
    // C[i, j] += alpha · A[i, :] · B[j, :]
    for (let i = 0; i < m; i++) {
      const ar = aOff + i * lda;
      const cr = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        const br = bOff + j * ldb;
        let s = 0;
        for (let p = 0; p < k; p++) s += (a[ar + p] as number) * (b[br + p] as number);
        c[cr + j] = (c[cr + j] as number) + alpha * s;
      }
    }
  } else {
    // C[i, j] += alpha · Σ_p A[p, i] · B[j, p]
    for (let i = 0; i < m; i++) {
      const cr = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        const br = bOff + j * ldb;
        let s = 0;
        for (let p = 0; p < k; p++) s += (a[aOff + p * lda + i] as number) * (b[br + p] as number);
        c[cr + j] = (c[cr + j] as number) + alpha * s;
      }
    }
  }
};
