// WebGPU matmul benchmark: sweeps tile configurations over 1024³, 4096³ and 4096×3072×768 (and the
// transposes a training step uses), times them with timestamp queries when the adapter has them
// (wall clock around a submitted batch otherwise), spot-checks outputs against a CPU dot product,
// and writes JSON. Usage: node --import tsx bench/gpu/matmul-bench.ts [out.json] [--quick]
import { writeFileSync } from "node:fs";
import { Rng } from "../../src/core/random.js";
import type { GpuBuffer } from "../../src/tensor/webgpu/buffer-pool.js";
import { type GpuDevice, openGpu } from "../../src/tensor/webgpu/device.js";
import { type MatmulTile, checkTile, matmulCall } from "../../src/tensor/webgpu/kernels/matmul.js";

const TILES: MatmulTile[] = [
  { BM: 64, BN: 64, BK: 8, TM: 4, TN: 4 },
  { BM: 64, BN: 64, BK: 16, TM: 8, TN: 8 },
  { BM: 128, BN: 64, BK: 8, TM: 8, TN: 4 },
  { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
  { BM: 128, BN: 256, BK: 8, TM: 8, TN: 16 },
  { BM: 256, BN: 128, BK: 8, TM: 16, TN: 8 },
];

async function timeIt(gpu: GpuDevice, call: ReturnType<typeof matmulCall<GpuBuffer>>, reps: number): Promise<{ ms: number; source: string }> {
  const pipeline = await gpu.pipelines.prepare(call.code, call.entry, call.label);
  const d = gpu.device;
  const params = d.createBuffer({ size: call.params!.byteLength, usage: 64 | 8 });
  d.queue.writeBuffer(params, 0, call.params!);
  const bind = d.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [...call.storage.map((b, i) => ({ binding: i, resource: { buffer: b.gpu } })), { binding: 3, resource: { buffer: params } }] });
  const record = (enc: GPUCommandEncoder, n: number, ts?: GPUComputePassTimestampWrites): void => {
    const pass = enc.beginComputePass(ts ? { timestampWrites: ts } : {});
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    for (let i = 0; i < n; i++) pass.dispatchWorkgroups(...call.groups);
    pass.end();
  };
  const warm = d.createCommandEncoder();
  record(warm, 2);
  d.queue.submit([warm.finish()]);
  await d.queue.onSubmittedWorkDone();
  if (gpu.hasTimestamps) {
    const qs = d.createQuerySet({ type: "timestamp", count: 2 });
    const res = d.createBuffer({ size: 16, usage: 512 | 4 });
    const read = d.createBuffer({ size: 16, usage: 1 | 8 });
    const enc = d.createCommandEncoder();
    record(enc, reps, { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    enc.resolveQuerySet(qs, 0, 2, res, 0);
    enc.copyBufferToBuffer(res, 0, read, 0, 16);
    d.queue.submit([enc.finish()]);
    await read.mapAsync(1);
    const t = new BigInt64Array(read.getMappedRange().slice(0));
    read.unmap();
    const ns = Number(t[1]! - t[0]!);
    if (ns > 0) return { ms: ns / 1e6 / reps, source: "timestamp-query" };
  }
  const enc = d.createCommandEncoder();
  record(enc, reps);
  const t0 = performance.now();
  d.queue.submit([enc.finish()]);
  await d.queue.onSubmittedWorkDone();
  return { ms: (performance.now() - t0) / reps, source: "wall clock" };
}

async function main(): Promise<void> {
  const out = process.argv.find((a) => a.endsWith(".json")) ?? "bench/out/gpu-matmul.json";
  const quick = process.argv.includes("--quick");
  const gpu = await openGpu({ env: process.env });
  console.log(`adapter: ${gpu.info.vendor} ${gpu.info.device} (${gpu.info.description}); features ${gpu.info.features.join(", ")}`);
  const rng = new Rng(7);
  const shapes: [number, number, number, boolean, boolean][] = [
    [1024, 1024, 1024, false, false], [4096, 4096, 4096, false, false], [4096, 3072, 768, false, false],
    [4096, 3072, 768, false, true], [768, 3072, 4096, true, false],
  ];
  const results: Record<string, unknown>[] = [];
  for (const [M, N, K, ta, tb] of quick ? shapes.slice(0, 3) : shapes) {
    const a = rng.fillUniform(new Float32Array(M * K), -0.5, 0.5);
    const b = rng.fillUniform(new Float32Array(K * N), -0.5, 0.5);
    const A = gpu.upload(a);
    const B = gpu.upload(b);
    const C = gpu.alloc(M * N);
    for (const tile of TILES) {
      try {
        checkTile(tile);
      } catch {
        continue;
      }
      const call = matmulCall(A, B, C, { transA: ta, transB: tb, M, N, K }, tile);
      const reps = Math.max(3, Math.min(50, Math.round(2e12 / (2 * M * N * K))));
      let row: Record<string, unknown>;
      try {
        const { ms, source } = await timeIt(gpu, call, reps);
        const c = await gpu.download(C, M * N);
        let maxErr = 0;
        for (let s = 0; s < 16; s++) {
          const i = rng.int(M);
          const j = rng.int(N);
          let ref = 0;
          for (let k = 0; k < K; k++) ref += (ta ? a[k * M + i]! : a[i * K + k]!) * (tb ? b[j * K + k]! : b[k * N + j]!);
          maxErr = Math.max(maxErr, Math.abs(ref - c[i * N + j]!));
        }
        row = { M, N, K, transA: ta, transB: tb, tile, ms, tflops: (2 * M * N * K) / (ms * 1e-3) / 1e12, timing: source, reps, maxErr };
      } catch (e) {
        row = { M, N, K, transA: ta, transB: tb, tile, error: e instanceof Error ? e.message : String(e) };
      }
      results.push(row);
      console.log(JSON.stringify(row));
    }
    [A, B, C].forEach((x) => gpu.release(x));
  }
  writeFileSync(out, JSON.stringify({ adapter: gpu.info, results }, null, 2));
  const best = results.filter((r) => typeof r.tflops === "number").sort((x, y) => (y.tflops as number) - (x.tflops as number))[0];
  console.log(`best: ${JSON.stringify(best)}\nwrote ${out}`);
  gpu.destroy();
}

await main();
