// f32 matmul GFLOP/s on this machine: Strata's kernels and the candidate fast paths, beside PyTorch
// measured in the same run on the same shapes.
//
//   node --import tsx bench/matmul.ts [--quick] [--no-torch]
//   npm run build && node dist/bench/matmul.js
//
// Rows (C[m×n] = A[m×k]·B[k×n], 2·m·n·k flops per product):
//   reference          src/tensor's plain-TS GEMM (one thread) — what runs when the addon is absent
//   ts-workers         candidate: a cache-blocked TS kernel in worker threads over SharedArrayBuffer,
//                      rows of C split between them; with 1 worker and with one per core
//   wasm-simd          candidate: a WebAssembly SIMD (f32x4) kernel, hand-assembled below (no wasm
//                      toolchain is installed here), one thread, blocked over 256 columns of C
//   openblas           src/tensor's fast path: the N-API addon over Debian's OpenBLAS (all cores)
//   openblas-1t        the same, one thread
//   torch              PyTorch from /usr/bin/python3 (Debian's python3-torch), torch.mm, default threads
//   torch-2t           the same with torch.set_num_threads(2)
// A second table times the other hot kernels (RMSNorm, SwiGLU, cross-entropy, attention; forward +
// backward) on the reference and the native fast path, at the sizes of nanoGPT's CPU recipe and of a
// GPT-2-small layer. A third line gives the end-to-end effect: tokens/s of one forward + backward of
// the llama at nanoGPT's CPU-recipe size (4 layers, width 128, 4 heads, block 64, batch 12, vocabulary
// 65; no optimizer step) on each backend. (The PyTorch comparison of whole training runs is
// bench/train's job.)
//
// The plain-TS candidates are slow, so on the large shape they multiply only the first rows of A
// (m = 256 instead of 4096) — GFLOP/s of a row-split kernel does not depend on m at that size; the
// table says when that happened. Each measurement is the best of several runs after a warm-up.

import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { type Backend, Rng, backend, backendInfo, referenceBackend, referenceGemm, setBackend, setThreads, withBackend } from "../src/tensor/index.js";
import { Llama } from "../src/nn/index.js";
import { commandLine, describeMachine, fmt, machineInfo, note, now, printTable, ratio, writeJson } from "./lib.js";

// ---------------------------------------------------------------------------------------------
// Candidate: blocked TS GEMM in worker threads over SharedArrayBuffer

interface WorkerJob {
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
  m: number;
  n: number;
  k: number;
  row0: number;
  row1: number;
}

/** C[row0..row1) = A·B, blocked over k (rows of B stay in L1/L2) and n. */
function blockedRows(a: Float32Array, b: Float32Array, c: Float32Array, n: number, k: number, row0: number, row1: number): void {
  const KB = 64;
  const NB = 512;
  c.fill(0, row0 * n, row1 * n);
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(k, p0 + KB);
      for (let i = row0; i < row1; i++) {
        const cr = i * n;
        const ar = i * k;
        for (let p = p0; p < p1; p++) {
          const av = a[ar + p]!;
          const br = p * n;
          for (let j = j0; j < j1; j++) c[cr + j] = c[cr + j]! + av * b[br + j]!;
        }
      }
    }
  }
}

/** The worker's source: the kernel above (as compiled JavaScript) and a message loop. */
function workerSource(): string {
  return `
const { parentPort } = require("node:worker_threads");
const blockedRows = ${blockedRows.toString()};
parentPort.on("message", (job) => {
  blockedRows(new Float32Array(job.a), new Float32Array(job.b), new Float32Array(job.c), job.n, job.k, job.row0, job.row1);
  parentPort.postMessage("done");
});`;
}

class WorkerPool {
  private readonly workers: Worker[];

  constructor(size: number) {
    const src = workerSource();
    this.workers = Array.from({ length: size }, () => new Worker(src, { eval: true }));
  }

  async gemm(a: SharedArrayBuffer, b: SharedArrayBuffer, c: SharedArrayBuffer, m: number, n: number, k: number): Promise<void> {
    const per = Math.ceil(m / this.workers.length);
    await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<void>((resolve) => {
            w.once("message", () => resolve());
            w.postMessage({ a, b, c, m, n, k, row0: Math.min(m, i * per), row1: Math.min(m, (i + 1) * per) } satisfies WorkerJob);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------
// Candidate: WebAssembly SIMD. The module is assembled here byte by byte: one exported function
//   gemm(a, b, c, m, n, k, j0, j1)   C[:, j0..j1) += A·B[:, j0..j1)   (byte pointers into memory)
// with the loop order i, p, j and the j loop over f32x4 lanes, four vectors per iteration.

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function wasmGemmModule(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const str = (t: string): number[] => [...uleb(t.length), ...Array.from(t, (ch) => ch.charCodeAt(0))];
  // params: a0 b1 c2 m3 n4 k5 j0=6 j1=7; locals: i8 p9 cp10 bp11 end12 (i32), av13 (v128)
  const [A, B, C, M, N, K, J0, J1, I, P, CP, BP, END, AV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const get = (l: number): number[] => [0x20, l];
  const set = (l: number): number[] => [0x21, l];
  const c32 = (v: number): number[] => [0x41, ...sleb(v)];
  const add = 0x6a;
  const mul = 0x6c;
  const shl = 0x74;
  const geU = 0x4f;
  const simd = (op: number): number[] => [0xfd, ...uleb(op)];
  const mem = (align: number, offset: number): number[] => [align, ...uleb(offset)];
  // c[cp + off] += av * b[bp + off]
  const lane = (off: number): number[] => [
    ...get(CP), ...get(CP), ...simd(0x00), ...mem(4, off), ...get(AV), ...get(BP), ...simd(0x00), ...mem(4, off),
    ...simd(230) /* f32x4.mul */, ...simd(228) /* f32x4.add */, ...simd(0x0b), ...mem(4, off),
  ];
  const body = [
    ...c32(0), ...set(I),
    0x02, 0x40, 0x03, 0x40, // block, loop (i)
    ...get(I), ...get(M), geU, 0x0d, 1,
    ...c32(0), ...set(P),
    0x02, 0x40, 0x03, 0x40, // block, loop (p)
    ...get(P), ...get(K), geU, 0x0d, 1,
    ...get(A), ...get(I), ...get(K), mul, ...get(P), add, ...c32(2), shl, add, 0x2a, ...mem(2, 0), ...simd(0x13), ...set(AV),
    ...get(C), ...get(I), ...get(N), mul, ...get(J0), add, ...c32(2), shl, add, ...set(CP),
    ...get(B), ...get(P), ...get(N), mul, ...get(J0), add, ...c32(2), shl, add, ...set(BP),
    ...get(C), ...get(I), ...get(N), mul, ...get(J1), add, ...c32(2), shl, add, ...set(END),
    0x02, 0x40, 0x03, 0x40, // block, loop (j)
    ...get(CP), ...get(END), geU, 0x0d, 1,
    ...lane(0), ...lane(16), ...lane(32), ...lane(48),
    ...get(CP), ...c32(64), add, ...set(CP),
    ...get(BP), ...c32(64), add, ...set(BP),
    0x0c, 0, 0x0b, 0x0b, // br loop j, end loop, end block
    ...get(P), ...c32(1), add, ...set(P),
    0x0c, 0, 0x0b, 0x0b,
    ...get(I), ...c32(1), add, ...set(I),
    0x0c, 0, 0x0b, 0x0b,
    0x0b,
  ];
  const locals = vec([[5, I32], [1, V128]]);
  const fn = [...locals, ...body];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array<number[]>(8).fill([I32])), 0]])), // type: (i32 × 8) → ()
    ...section(2, vec([[...str("env"), ...str("mem"), 0x02, 0x00, 1]])), // import memory env.mem, min 1 page
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(7, vec([[...str("gemm"), 0x00, 0]])), // export "gemm" = function 0
    ...section(10, vec([[...uleb(fn.length), ...fn]])), // code
  ];
  return Uint8Array.from(bytes);
}

/** The part of the WebAssembly API used here (the project's TS libs do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

class WasmSimdGemm {
  private readonly memory: { buffer: ArrayBuffer };
  private readonly fn: (...args: number[]) => void;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
  private readonly offs: [number, number, number];

  constructor(m: number, n: number, k: number) {
    const bytes = 4 * (m * k + k * n + m * n);
    this.memory = new WA.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
    const instance = new WA.Instance(new WA.Module(wasmGemmModule()), { env: { mem: this.memory } });
    this.fn = instance.exports["gemm"] as (...args: number[]) => void;
    const buf = this.memory.buffer;
    this.offs = [0, 4 * m * k, 4 * (m * k + k * n)];
    this.a = new Float32Array(buf, this.offs[0], m * k);
    this.b = new Float32Array(buf, this.offs[1], k * n);
    this.c = new Float32Array(buf, this.offs[2], m * n);
  }

  /** C = A·B for the first m rows; n must be a multiple of 16. */
  run(m: number, n: number, k: number): void {
    this.c.fill(0, 0, m * n);
    const NB = 256;
    for (let j0 = 0; j0 < n; j0 += NB) this.fn(this.offs[0], this.offs[1], this.offs[2], m, n, k, j0, Math.min(n, j0 + NB));
  }
}

// ---------------------------------------------------------------------------------------------

interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
}

interface Row {
  kernel: string;
  shape: string;
  m: number;
  n: number;
  k: number;
  /** Rows of A actually multiplied (smaller than m when scaled down). */
  mMeasured: number;
  ms: number;
  gflops: number;
  /** max |C − C_ref| / max |C_ref| on the measured rows, against float64 dot products for a sample of entries. */
  relErr: number | null;
}

async function bestOf(reps: number, fn: () => void | Promise<void>): Promise<number> {
  await fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    await fn();
    best = Math.min(best, now() - t0);
  }
  return best;
}

/** Relative error of C against float64 products on 64 sampled entries. */
function sampleError(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, rng: Rng): number {
  let err = 0;
  let scale = 0;
  for (let s = 0; s < 64; s++) {
    const i = rng.int(m);
    const j = rng.int(n);
    let ref = 0;
    for (let p = 0; p < k; p++) ref += a[i * k + p]! * b[p * n + j]!;
    err = Math.max(err, Math.abs(c[i * n + j]! - ref));
    scale = Math.max(scale, Math.abs(ref));
  }
  return err / scale;
}

interface TorchRow {
  threads: number;
  shape: string;
  ms: number;
  gflops: number;
}

function runTorch(shapes: Shape[], reps: number): { rows: TorchRow[]; version: string; defaultThreads: number } | { error: string } {
  const script = `
import json, sys, time, torch
shapes = json.loads(sys.argv[1]); reps = int(sys.argv[2]); out = []
default = torch.get_num_threads()
for threads in ([default] if default == 2 else [default, 2]):
    torch.set_num_threads(threads)
    for s in shapes:
        torch.manual_seed(0)
        a = torch.randn(s["m"], s["k"]); b = torch.randn(s["k"], s["n"])
        torch.mm(a, b)
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter(); torch.mm(a, b); best = min(best, time.perf_counter() - t0)
        out.append({"threads": threads, "shape": s["name"], "ms": best * 1e3, "gflops": 2 * s["m"] * s["n"] * s["k"] / best / 1e9})
print(json.dumps({"version": torch.__version__, "defaultThreads": default, "rows": out}))
`;
  const res = spawnSync("/usr/bin/python3", ["-c", script, JSON.stringify(shapes), String(reps)], { encoding: "utf8", timeout: 600_000 });
  if (res.status !== 0) return { error: (res.stderr || res.error?.message || "failed").trim().split("\n").pop() ?? "failed" };
  return JSON.parse(res.stdout) as { rows: TorchRow[]; version: string; defaultThreads: number };
}

// ---------------------------------------------------------------------------------------------
// The other hot kernels

interface KernelCase {
  name: string;
  /** batch, positions, width, heads, feed-forward width, vocabulary */
  B: number;
  T: number;
  C: number;
  H: number;
  F: number;
  V: number;
}

interface KernelRow {
  case: string;
  kernel: string;
  referenceMs: number;
  nativeMs: number | null;
}

async function timeKernels(quick: boolean): Promise<KernelRow[]> {
  const cases: KernelCase[] = [
    { name: "nanoGPT CPU recipe (B 12, T 64, C 128, H 4)", B: 12, T: 64, C: 128, H: 4, F: 344, V: 65 },
    { name: "GPT-2-small layer (B 4, T 256, C 768, H 12)", B: 4, T: 256, C: 768, H: 12, F: 2048, V: 8192 },
  ];
  const info = backendInfo();
  const native: Backend | null = info.nativeAvailable ? withBackend("openblas", () => backend()) : null;
  const rng = new Rng(2);
  const R = (n: number): Float32Array => rng.fillNormal(new Float32Array(n));
  const out: KernelRow[] = [];
  for (const c of cases) {
    const N = c.B * c.T;
    const D = c.C / c.H;
    const x = R(N * c.C);
    const w = R(c.C);
    const g = R(N * c.C);
    const a = R(N * c.F);
    const b = R(N * c.F);
    const ga = R(N * c.F);
    const logits = R(N * c.V);
    const targets = Int32Array.from({ length: N }, () => rng.int(c.V));
    const qkv = { data: R(N * c.C), offset: 0, sB: c.T * c.C, sT: c.C, sH: D };
    const dims = { B: c.B, T: c.T, S: c.T, Hq: c.H, Hkv: c.H, D, scale: 1 / Math.sqrt(D), causal: true };
    const ops: [string, (k: Backend) => void][] = [
      ["rmsNorm fwd+bwd", (k) => {
        const { rstd } = k.rmsNorm(x, w, N, c.C, 1e-5);
        k.rmsNormBackward(g, x, w, rstd, N, c.C, true, true);
      }],
      ["swiglu fwd+bwd", (k) => {
        k.swiglu(a, b);
        k.swigluBackward(ga, a, b, true, true);
      }],
      ["crossEntropy fwd+bwd", (k) => {
        const r = k.crossEntropy(logits, targets, N, c.V, -100);
        k.crossEntropyBackward(1, logits, targets, r.lse, N, c.V, -100, r.count);
      }],
      ["attention fwd+bwd", (k) => {
        const { out: o, lse } = k.attention(qkv, qkv, qkv, dims);
        k.attentionBackward(o, o, lse, qkv, qkv, qkv, dims, { q: true, k: true, v: true });
      }],
    ];
    for (const [name, f] of ops) {
      const reps = quick ? 1 : 3;
      const referenceMs = await bestOf(reps, () => f(referenceBackend));
      const nativeMs = native ? await bestOf(reps * 3, () => f(native)) : null;
      out.push({ case: c.name, kernel: name, referenceMs, nativeMs });
      note(`  ${c.name} ${name}: reference ${fmt(referenceMs, 2)} ms, native ${nativeMs === null ? "–" : fmt(nativeMs, 2)} ms`);
    }
  }
  return out;
}

/** Tokens/s of forward + backward of a nanoGPT-CPU-recipe-sized llama on one backend. */
async function timeModelStep(name: "reference" | "openblas", quick: boolean): Promise<number> {
  const B = quick ? 2 : 12;
  const T = 64;
  const model = new Llama({ vocab: 65, dim: 128, layers: 4, heads: 4, kvHeads: 4, ffnDim: 344, maxSeq: T, ropeBase: 10000, normEps: 1e-5, tieEmbeddings: false }, { seed: 1 });
  const rng = new Rng(3);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(65));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(65));
  const ms = await bestOf(name === "reference" ? 1 : 5, () =>
    withBackend(name, () => {
      model.zeroGrad();
      model.loss(ids, targets, [B, T]).loss.backward();
    }),
  );
  return (B * T) / (ms / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, "no-torch": { type: "boolean", default: false } } });
  const quick = values.quick ?? false;
  const machine = machineInfo();
  const info = backendInfo();
  note(`machine: ${describeMachine(machine)}`);
  note(`backend: ${info.nativeAvailable ? `${info.blasConfig}, ${info.threads} threads` : `reference only (${info.nativeError})`}`);

  const shapes: Shape[] = [
    { name: "1024×1024×1024", m: 1024, n: 1024, k: 1024 },
    { name: "4096×768×3072", m: 4096, n: 3072, k: 768 },
  ];
  const slowRows = (s: Shape): number => (quick ? Math.min(s.m, 64) : s.m >= 4096 ? 256 : s.m);
  const reps = quick ? 2 : 5;
  const rng = new Rng(1);
  const rows: Row[] = [];
  const cores = availableParallelism();
  const pools = [...new Set([1, cores])].map((size) => ({ size, pool: new WorkerPool(size) }));

  for (const s of shapes) {
    const sab = (len: number): SharedArrayBuffer => new SharedArrayBuffer(len * 4);
    const aBuf = sab(s.m * s.k);
    const bBuf = sab(s.k * s.n);
    const cBuf = sab(s.m * s.n);
    const a = rng.fillNormal(new Float32Array(aBuf));
    const b = rng.fillNormal(new Float32Array(bBuf));
    const c = new Float32Array(cBuf);
    const record = (kernel: string, mMeasured: number, ms: number): void => {
      const gflops = (2 * mMeasured * s.n * s.k) / (ms / 1000) / 1e9;
      const relErr = sampleError(a, b, c, mMeasured, s.n, s.k, rng);
      rows.push({ kernel, shape: s.name, m: s.m, n: s.n, k: s.k, mMeasured, ms, gflops, relErr });
      note(`  ${s.name} ${kernel}: ${fmt(gflops, 1)} GFLOP/s (${fmt(ms, 1)} ms for m = ${mMeasured}), rel. error ${relErr.toExponential(1)}`);
    };

    const mSlow = slowRows(s);
    note(`${s.name}: plain TS on ${mSlow} rows…`);
    record("reference", mSlow, await bestOf(quick ? 1 : 2, () => referenceGemm(false, false, mSlow, s.n, s.k, 1, a, 0, s.k, b, 0, s.n, 0, c, 0, s.n)));
    for (const { size, pool } of pools) {
      record(`ts-workers (${size} worker${size === 1 ? "" : "s"})`, mSlow, await bestOf(quick ? 1 : 2, () => pool.gemm(aBuf, bBuf, cBuf, mSlow, s.n, s.k)));
    }
    {
      const w = new WasmSimdGemm(s.m, s.n, s.k);
      w.a.set(a);
      w.b.set(b);
      const mW = quick ? mSlow : Math.min(s.m, 1024);
      const ms = await bestOf(quick ? 1 : 2, () => w.run(mW, s.n, s.k));
      c.set(w.c.subarray(0, mW * s.n));
      record("wasm-simd (1 thread)", mW, ms);
    }
    if (info.nativeAvailable) {
      const blas = setBackend("openblas");
      for (const threads of [cores, 1]) {
        setThreads(threads);
        record(threads === 1 ? "openblas-1t" : `openblas (${threads} threads)`, s.m, await bestOf(reps, () => blas.gemm(false, false, s.m, s.n, s.k, 1, a, 0, s.k, b, 0, s.n, 0, c, 0, s.n)));
      }
      setThreads(cores);
      setBackend("auto");
    }
  }
  for (const { pool } of pools) await pool.close();

  let torch: ReturnType<typeof runTorch> | null = null;
  if (!values["no-torch"]) {
    note("PyTorch (torch.mm)…");
    torch = runTorch(shapes, reps);
    if ("error" in torch) note(`  PyTorch unavailable: ${torch.error}`);
  }
  const torchOk = torch && "rows" in torch ? torch : null;
  const torchRows = torchOk?.rows ?? [];
  const torchDefault = (shape: string): TorchRow | undefined => torchRows.find((r) => r.shape === shape && r.threads === torchOk?.defaultThreads);

  const headers = ["kernel", ...shapes.flatMap((s) => [`${s.name} GFLOP/s`, "vs torch"])];
  const kernels = [...new Set(rows.map((r) => r.kernel))];
  const scaled = rows.filter((r) => r.mMeasured < r.m);
  const table: string[][] = kernels.map((kname) => [
    kname + (scaled.some((r) => r.kernel === kname) ? " *" : ""),
    ...shapes.flatMap((s) => {
      const r = rows.find((x) => x.kernel === kname && x.shape === s.name);
      const t = torchDefault(s.name);
      return [fmt(r?.gflops, 1), r && t ? ratio(r.gflops, t.gflops) : "–"];
    }),
  ]);
  for (const th of [...new Set(torchRows.map((r) => r.threads))]) {
    const label = `torch ${torchOk?.version ?? ""} (${th} thread${th === 1 ? "" : "s"}${th === torchOk?.defaultThreads ? ", default" : ""})`;
    table.push([label, ...shapes.flatMap((s) => [fmt(torchRows.find((r) => r.shape === s.name && r.threads === th)?.gflops, 1), "–"])]);
  }
  process.stdout.write(`\nf32 matmul, ${describeMachine(machine)}\n\n`);
  const md = printTable(headers, table);
  const groups = new Map<string, string[]>();
  for (const r of scaled) {
    const key = `${r.shape}: ${r.mMeasured} of ${r.m} rows`;
    groups.set(key, [...(groups.get(key) ?? []), r.kernel.replace(/ \(.*\)$/, "")]);
  }
  const footnote = [...groups].map(([key, ks]) => `${key} (${[...new Set(ks)].join(", ")})`);
  if (footnote.length > 0) process.stdout.write(`\n* measured on the first rows of A only (GFLOP/s of these row-split kernels does not depend on m): ${footnote.join("; ")}\n`);
  note("other hot kernels…");
  const kernelRows = await timeKernels(quick);
  process.stdout.write(`\nother hot kernels, forward + backward, ms per call (native: ${info.nativeAvailable ? `${cores} threads` : "unavailable"})\n\n`);
  const kernelMd = printTable(
    ["case", "kernel", "reference ms", "native ms", "speed-up"],
    kernelRows.map((r) => [r.case, r.kernel, fmt(r.referenceMs, 2), fmt(r.nativeMs, 2), r.nativeMs ? ratio(r.referenceMs, r.nativeMs, 1) : "–"]),
  );
  note("llama forward + backward…");
  const stepRef = await timeModelStep("reference", quick);
  const stepNative = info.nativeAvailable ? await timeModelStep("openblas", quick) : null;
  const stepLine = `llama forward + backward (nanoGPT CPU-recipe size, ${quick ? "batch 2" : "batch 12"} × 64 tokens): reference ${fmt(stepRef, 0)} tokens/s, native ${stepNative === null ? "–" : `${fmt(stepNative, 0)} tokens/s (${ratio(stepNative, stepRef, 0)})`}`;
  process.stdout.write(`\n${stepLine}\n`);
  const file = writeJson("matmul", {
    command: commandLine(), machine, backend: info, rows, torch, markdown: md, footnote, kernels: kernelRows, kernelMarkdown: kernelMd,
    modelStep: { referenceTokensPerS: stepRef, nativeTokensPerS: stepNative, line: stepLine },
  });
  note(`\nwrote ${file}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
