// Tiled, register-blocked f32 GEMM in WGSL, BLAS convention, row-major, batched by strides:
//
//   C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z]      op(X) = X or Xᵀ,  z < batch
//
// Each workgroup computes a BM×BN block of C; each of its (BM/TM)·(BN/TN) threads a TM×TN
// micro-tile held in registers (generated as named vec4 variables so nothing spills to local
// memory). K advances BK at a time through two shared-memory buffers (double buffering: the next
// tile's global loads are issued before the current tile is multiplied, and one barrier per step
// suffices). Shared tiles are stored k-major as vec4s of 4 consecutive rows (of op(A)) or columns
// (of op(B)), so the inner loop reads TM/4 + TN/4 vec4s per k and does TM·TN FMAs. A thread's rows
// are spread as groups of 4 spaced by 4·(BM/TM) (same for columns), which makes neighbouring
// threads read neighbouring vec4s (no bank conflicts) and write whole vec4s of C.
//
// Operands whose rows run along M or N in memory (Aᵀ, B) are read as vec4s when aligned; the others
// (A, Bᵀ) are read as scalars, 4 rows per thread, each warp covering whole 32-byte sectors.
// Edges (sizes that are not multiples of the tile) are bounds-checked and zero-filled.

import { type KernelCall, ceilDiv } from "../kernel-call.js";
import { type ParamLayout, packParams, paramDecl } from "../params.js";

/** The block shape; the H100 sweep varies it (bench/gpu/matmul-bench.ts). */
export interface MatmulTile {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/** One compiled variant: the tile plus transposes and which buffers are read/written as vec4. */
export interface MatmulVariant extends MatmulTile {
  transA: boolean;
  transB: boolean;
  /** A is read as vec4 (only meaningful with transA: A's rows then run along M). */
  vecA: boolean;
  /** B is read as vec4 (only meaningful without transB). */
  vecB: boolean;
  vecC: boolean;
}

export const DEFAULT_TILE: MatmulTile = { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 };

/** Throws unless the tile can be built (multiples of 4, whole loads per thread, fits 48 KiB / 1024 threads). */
export function checkTile(t: MatmulTile): void {
  const { BM, BN, BK, TM, TN } = t;
  const bad = (why: string): never => {
    throw new RangeError(`matmul tile ${BM}x${BN}x${BK}/${TM}x${TN}: ${why}`);
  };
  if (TM % 4 !== 0 || TN % 4 !== 0) bad("TM and TN must be multiples of 4");
  if (BM % TM !== 0 || BN % TN !== 0) bad("BM must be a multiple of TM and BN of TN");
  const wg = (BM / TM) * (BN / TN);
  if (wg > 1024) bad(`${wg} threads exceed 1024`);
  if (((BK * BM) / 4) % wg !== 0 || ((BK * BN) / 4) % wg !== 0) bad(`the ${BK}×${BM} and ${BK}×${BN} tiles do not split into whole vec4 loads for ${wg} threads`);
  const bytes = 2 * BK * (BM + BN) * 4;
  if (bytes > 48 * 1024) bad(`${bytes} bytes of workgroup memory exceed 48 KiB`);
}

export const MATMUL_PARAMS: ParamLayout = [
  ["M", "u32"], ["N", "u32"], ["K", "u32"], ["lda", "u32"], ["ldb", "u32"], ["ldc", "u32"],
  ["aOff", "u32"], ["bOff", "u32"], ["cOff", "u32"], ["sA", "u32"], ["sB", "u32"], ["sC", "u32"],
  ["alpha", "f32"], ["beta", "f32"],
];

/**
 * WGSL for one operand's tile load into registers: unit u (a vec4 of 4 consecutive rows `r` of
 * op(X) at one k) for X = A (rows M) or B (rows N).
 */
function loadUnit(x: "A" | "B", rowsAlongMemory: boolean, vec: boolean, rows: string, rowTile: number, BK: number, reg: string, u: string): string {
  const base = `${x.toLowerCase()}Base`;
  const ld = x === "A" ? "p.lda" : "p.ldb";
  const r0 = x === "A" ? "row0" : "col0";
  if (rowsAlongMemory) {
    // element (r, k) at base + k·ld + r: consecutive threads take consecutive vec4s along r.
    const k = `(${u} / ${rowTile / 4}u)`;
    const rq = `(${u} % ${rowTile / 4}u)`;
    const head = `{ let kg = k0 + ${k}; let rg = ${r0} + ${rq} * 4u;`;
    // Out-of-range lanes read element 0 (select evaluates both sides) and are replaced by 0.
    if (vec) return `${head} let ok = kg < p.K && rg < ${rows}; ${reg} = select(vec4<f32>(0.0), ${x}[select(0u, (${base} + kg * ${ld} + rg) / 4u, ok)], ok); }`;
    const e = (c: number): string => `select(0.0, ${x}[select(0u, ${base} + kg * ${ld} + rg + ${c}u, kg < p.K && rg + ${c}u < ${rows})], kg < p.K && rg + ${c}u < ${rows})`;
    return `${head} ${reg} = vec4<f32>(${e(0)}, ${e(1)}, ${e(2)}, ${e(3)}); }`;
  }
  // element (r, k) at base + r·ld + k: consecutive threads take consecutive k of the same 4 rows.
  const k = `(${u} % ${BK}u)`;
  const rq = `(${u} / ${BK}u)`;
  const e = (c: number): string => `select(0.0, ${x}[select(0u, ${base} + (rg + ${c}u) * ${ld} + kg, kg < p.K && rg + ${c}u < ${rows})], kg < p.K && rg + ${c}u < ${rows})`;
  return `{ let kg = k0 + ${k}; let rg = ${r0} + ${rq} * 4u; ${reg} = vec4<f32>(${e(0)}, ${e(1)}, ${e(2)}, ${e(3)}); }`;
}

/** Where unit u of a tile goes in shared memory (vec4 index within one buffer). */
function storeIndex(rowsAlongMemory: boolean, rowTile: number, BK: number, u: string): string {
  const k = rowsAlongMemory ? `(${u} / ${rowTile / 4}u)` : `(${u} % ${BK}u)`;
  const rq = rowsAlongMemory ? `(${u} % ${rowTile / 4}u)` : `(${u} / ${BK}u)`;
  return `${k} * ${rowTile / 4}u + ${rq}`;
}

export function matmulShader(v: MatmulVariant): string {
  checkTile(v);
  const { BM, BN, BK, TM, TN, transA, transB } = v;
  const TX = BN / TN;
  const TY = BM / TM;
  const WG = TX * TY;
  const LA = (BK * BM) / 4 / WG;
  const LB = (BK * BN) / 4 / WG;
  const aAlongRows = transA; // Aᵀ stored [K, M]: A's rows (m) run along memory
  const bAlongRows = !transB; // B stored [K, N]: columns (n) run along memory
  const vecA = v.vecA && aAlongRows;
  const vecB = v.vecB && bAlongRows;
  const lines: string[] = [];
  const L = (s: string): number => lines.push(s);
  L(`// matmul ${BM}x${BN}x${BK}, micro-tile ${TM}x${TN}, ${WG} threads; transA=${transA} transB=${transB}`);
  L(`@group(0) @binding(0) var<storage, read> A: array<${vecA ? "vec4<f32>" : "f32"}>;`);
  L(`@group(0) @binding(1) var<storage, read> B: array<${vecB ? "vec4<f32>" : "f32"}>;`);
  L(`@group(0) @binding(2) var<storage, read_write> C: array<${v.vecC ? "vec4<f32>" : "f32"}>;`);
  L(paramDecl(MATMUL_PARAMS, 3));
  L(`var<workgroup> As: array<vec4<f32>, ${(2 * BK * BM) / 4}>;`);
  L(`var<workgroup> Bs: array<vec4<f32>, ${(2 * BK * BN) / 4}>;`);
  L(`@compute @workgroup_size(${WG})`);
  L(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`);
  L(`  let tx = lid % ${TX}u; let ty = lid / ${TX}u;`);
  L(`  let row0 = wid.y * ${BM}u; let col0 = wid.x * ${BN}u;`);
  L(`  let aBase = p.aOff + wid.z * p.sA; let bBase = p.bOff + wid.z * p.sB; let cBase = p.cOff + wid.z * p.sC;`);
  for (let i = 0; i < LA; i++) L(`  var ra${i}: vec4<f32>;`);
  for (let i = 0; i < LB; i++) L(`  var rb${i}: vec4<f32>;`);
  for (let r = 0; r < TM; r++) for (let j = 0; j < TN / 4; j++) L(`  var c${r}_${j} = vec4<f32>(0.0);`);
  const loadAll = (): void => {
    for (let i = 0; i < LA; i++) L(`    ${loadUnit("A", aAlongRows, vecA, "p.M", BM, BK, `ra${i}`, `(lid + ${i * WG}u)`)}`);
    for (let i = 0; i < LB; i++) L(`    ${loadUnit("B", bAlongRows, vecB, "p.N", BN, BK, `rb${i}`, `(lid + ${i * WG}u)`)}`);
  };
  const storeAll = (buf: string): void => {
    for (let i = 0; i < LA; i++) L(`    As[${buf} * ${(BK * BM) / 4}u + ${storeIndex(aAlongRows, BM, BK, `(lid + ${i * WG}u)`)}] = ra${i};`);
    for (let i = 0; i < LB; i++) L(`    Bs[${buf} * ${(BK * BN) / 4}u + ${storeIndex(bAlongRows, BN, BK, `(lid + ${i * WG}u)`)}] = rb${i};`);
  };
  L(`  let nt = (p.K + ${BK - 1}u) / ${BK}u;`);
  L(`  if (nt > 0u) {`);
  L(`    let k0 = 0u;`);
  loadAll();
  storeAll("0u");
  L(`  }`);
  L(`  workgroupBarrier();`);
  L(`  for (var t = 0u; t < nt; t++) {`);
  L(`    let cur = t % 2u;`);
  L(`    if (t + 1u < nt) {`);
  L(`    let k0 = (t + 1u) * ${BK}u;`);
  loadAll();
  L(`    }`);
  L(`    for (var kk = 0u; kk < ${BK}u; kk++) {`);
  L(`      let ao = (cur * ${BK}u + kk) * ${BM / 4}u + ty; let bo = (cur * ${BK}u + kk) * ${BN / 4}u + tx;`);
  for (let i = 0; i < TM / 4; i++) L(`      let a${i} = As[ao + ${i * TY}u];`);
  for (let j = 0; j < TN / 4; j++) L(`      let b${j} = Bs[bo + ${j * TX}u];`);
  const comp = ["x", "y", "z", "w"];
  for (let i = 0; i < TM / 4; i++) {
    for (let ii = 0; ii < 4; ii++) {
      const r = i * 4 + ii;
      for (let j = 0; j < TN / 4; j++) L(`      c${r}_${j} = fma(vec4<f32>(a${i}.${comp[ii]}), b${j}, c${r}_${j});`);
    }
  }
  L(`    }`);
  L(`    if (t + 1u < nt) {`);
  storeAll("(1u - cur)");
  L(`    }`);
  L(`    workgroupBarrier();`);
  L(`  }`);
  // Epilogue: beta = 0 overwrites C (even NaNs), as BLAS does.
  for (let i = 0; i < TM / 4; i++) {
    for (let ii = 0; ii < 4; ii++) {
      const r = i * 4 + ii;
      L(`  { let r = row0 + ${i * TY * 4}u + ty * 4u + ${ii}u;`);
      for (let j = 0; j < TN / 4; j++) {
        L(`    { let col = col0 + ${j * TX * 4}u + tx * 4u; let v = p.alpha * c${r}_${j};`);
        if (v.vecC) {
          L(`      if (r < p.M && col < p.N) { let o = (cBase + r * p.ldc + col) / 4u;`);
          L(`        if (p.beta != 0.0) { C[o] = v + p.beta * C[o]; } else { C[o] = v; } }`);
        } else {
          for (let c = 0; c < 4; c++) {
            L(`      if (r < p.M && col + ${c}u < p.N) { let o = cBase + r * p.ldc + col + ${c}u;`);
            L(`        if (p.beta != 0.0) { C[o] = v.${comp[c]} + p.beta * C[o]; } else { C[o] = v.${comp[c]}; } }`);
          }
        }
        L(`    }`);
      }
      L(`  }`);
    }
  }
  L(`}`);
  return lines.join("\n");
}

/** A product's sizes and layout, element offsets and leading dims as in src/tensor/kernels/gemm.ts. */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha?: number;
  beta?: number;
  aOff?: number;
  bOff?: number;
  cOff?: number;
  /** Leading dims; default: the packed row length. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Products in the batch (default 1) and the element distance between consecutive ones (0 = shared operand). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

const aligned = (...xs: number[]): boolean => xs.every((x) => x % 4 === 0);

/** Resolves defaults and picks the vec4 paths the layout allows. */
export function resolveGemm(g: GemmArgs, tile: MatmulTile = DEFAULT_TILE): { variant: MatmulVariant; values: Record<string, number>; groups: [number, number, number] } {
  const { transA, transB, M, N, K } = g;
  const lda = g.lda ?? (transA ? M : K);
  const ldb = g.ldb ?? (transB ? K : N);
  const ldc = g.ldc ?? N;
  const aOff = g.aOff ?? 0;
  const bOff = g.bOff ?? 0;
  const cOff = g.cOff ?? 0;
  const batch = g.batch ?? 1;
  const sA = g.strideA ?? M * K;
  const sB = g.strideB ?? K * N;
  const sC = g.strideC ?? M * N;
  if (batch > 65535) throw new RangeError(`matmul: a batch of ${batch} exceeds 65535 dispatches in z; split it`);
  const variant: MatmulVariant = {
    ...tile, transA, transB,
    vecA: transA && aligned(M, lda, aOff, sA),
    vecB: !transB && aligned(N, ldb, bOff, sB),
    vecC: aligned(N, ldc, cOff, sC),
  };
  const values = { M, N, K, lda, ldb, ldc, aOff, bOff, cOff, sA, sB, sC, alpha: g.alpha ?? 1, beta: g.beta ?? 0 };
  return { variant, values, groups: [Math.max(1, ceilDiv(N, tile.BN)), Math.max(1, ceilDiv(M, tile.BM)), batch] };
}

/** The dispatch for C = alpha·op(A)·op(B) + beta·C. A, B and C must be different buffers. */
export function matmulCall<B>(a: B, b: B, c: B, g: GemmArgs, tile: MatmulTile = DEFAULT_TILE): KernelCall<B> {
  const { variant, values, groups } = resolveGemm(g, tile);
  return {
    label: `matmul${g.transA ? "T" : "N"}${g.transB ? "T" : "N"}`,
    code: matmulShader(variant),
    entry: "main",
    groups,
    storage: [a, b, c],
    params: packParams(MATMUL_PARAMS, values),
  };
}
