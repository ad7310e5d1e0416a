// Image generation, measured: the diffusion model of a run (`strata train diffusion`) judged by a
// classifier the engine trains on the Fashion-MNIST training split (bench/diffusion/classifier.ts).
//
//   node --import tsx bench/diffusion.ts --run runs/fashion [--per-class 6] [--steps 10,25,50,100]
//        [--guidance 0,1,3,5] [--epochs 2] [--docs docs/images] [--timing-steps 10]
//
// For every (steps, guidance): per-class × 10 images (DDIM, the first phrasing of each class,
// seeds 1000…), their conditional accuracy (the classifier reads the class the prompt names) and
// the Fréchet distance between their classifier features and those of the 10,000 test images. The
// floor of that distance at the same sample size is measured too: real training images against the
// test set. Also: the classifier's test accuracy, sampling images/s, the run's training time, and
// training images/s of the same model and batch in the engine and in PyTorch (bench/
// diffusion_reference.py, /usr/bin/python3, 1 thread), measured here in the same script.
// Sample grids (columns = classes) are written as PNGs to --docs.

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { frechetDistance, gaussianOf } from "../src/eval/frechet.js";
import { readFashionMnist } from "../src/formats/idx.js";
import { encodeGreyGrid } from "../src/formats/png.js";
import { loadImageModel } from "../src/model/diffusion/image-model.js";
import { sampleImages } from "../src/nn/diffusion/index.js";
import { drawBatchForBench } from "./diffusion/timing.js";
import { judge, toUnit, trainedClassifier } from "./diffusion/classifier.js";
import { commandLine, describeMachine, fmt, loadNow, machineInfo, note, printTable, ratio, repoRoot, writeJson } from "./lib.js";

const { values } = parseArgs({
  options: {
    run: { type: "string", default: "runs/fashion" },
    "per-class": { type: "string", default: "6" },
    steps: { type: "string", default: "10,25,50,100" },
    guidance: { type: "string", default: "0,1,3,5" },
    epochs: { type: "string", default: "2" },
    docs: { type: "string", default: "docs/images" },
    "timing-steps": { type: "string", default: "10" },
  },
});
const perClass = Number(values["per-class"]);
const stepsList = values.steps!.split(",").map(Number);
const guidances = values.guidance!.split(",").map(Number);
const started = new Date().toISOString();
const load0 = loadNow();
const root = repoRoot();
const outDir = join(root, "bench", "out");
mkdirSync(outDir, { recursive: true });

const train = await readFashionMnist("train");
const test = await readFashionMnist("t10k");
const clf = await trainedClassifier(train, outDir, Number(values.epochs), note);
const testJudged = judge(clf.model, toUnit(test, 0, test.count), test.count);
let correct = 0;
for (let i = 0; i < test.count; i++) if (testJudged.predicted[i] === test.labels[i]) correct++;
const clfAccuracy = correct / test.count;
note(`classifier: test accuracy ${(100 * clfAccuracy).toFixed(2)}%${clf.cached ? " (cached weights)" : ` (trained in ${(clf.ms / 1000).toFixed(0)} s)`}`);
const testStats = gaussianOf(testJudged.features, test.count, 32);
const n = perClass * 10;
// The floor: n real training images (perClass of each class) against the test set.
const realIdx: number[] = [];
for (let c = 0; c < 10; c++) {
  for (let i = 0, k = 0; k < perClass; i++) {
    if (train.labels[i] !== c) continue;
    realIdx.push(i);
    k++;
  }
}
const realPx = new Float32Array(n * 784);
realIdx.forEach((idx, j) => realPx.set(toUnit(train, idx, 1), j * 784));
const realJudged = judge(clf.model, realPx, n);
const floor = frechetDistance(gaussianOf(realJudged.features, n, 32), testStats);
note(`Fréchet distance of ${n} real training images to the test set: ${floor.toFixed(2)}`);

const m = await loadImageModel(values.run!);
const firstRow = m.run.classes.map((_, c) => m.run.classOf.indexOf(c));
interface Row { steps: number; guidance: number; accuracy: number; fd: number; seconds: number; imagesPerSecond: number }
const rows: Row[] = [];
const grids = new Map<string, Float32Array>();
for (const steps of stepsList) {
  for (const w of guidances) {
    const t0 = performance.now();
    // All classes in one batch, with the prompts and seeds `generate image --seed 1000 --grid k` uses
    // per class (each image has its own generator).
    const px = sampleImages(m.model, {
      rows: Array.from({ length: n }, (_, i) => firstRow[Math.floor(i / perClass)]!),
      seeds: Array.from({ length: n }, (_, i) => 1000 + (i % perClass)),
      steps,
      guidance: w,
    });
    const seconds = (performance.now() - t0) / 1000;
    const j = judge(clf.model, px, n);
    let ok = 0;
    for (let i = 0; i < n; i++) if (j.predicted[i] === Math.floor(i / perClass)) ok++;
    const row = { steps, guidance: w, accuracy: ok / n, fd: frechetDistance(gaussianOf(j.features, n, 32), testStats), seconds, imagesPerSecond: n / seconds };
    rows.push(row);
    note(`steps ${steps}, guidance ${w}: accuracy ${(100 * row.accuracy).toFixed(1)}%, Fréchet ${row.fd.toFixed(2)}, ${row.imagesPerSecond.toFixed(2)} images/s`);
    grids.set(`${steps}/${w}`, px);
    writeJson("diffusion-partial", { rows });
  }
}

// Grids: columns are the ten classes, rows the seeds (or the step counts).
const docs = join(root, values.docs!);
mkdirSync(docs, { recursive: true });
const byClass = (px: Float32Array, seedsShown: number): Float32Array => {
  const out = new Float32Array(seedsShown * 10 * 784);
  for (let k = 0; k < seedsShown; k++) for (let c = 0; c < 10; c++) out.set(px.subarray((c * perClass + k) * 784, (c * perClass + k + 1) * 784), (k * 10 + c) * 784);
  return out;
};
const written: string[] = [];
const midSteps = stepsList.includes(50) ? 50 : stepsList[stepsList.length - 1]!;
for (const w of guidances) {
  const px = grids.get(`${midSteps}/${w}`);
  if (!px) continue;
  const shown = Math.min(4, perClass);
  const f = join(docs, `diffusion-steps${midSteps}-guidance${w}.png`);
  writeFileSync(f, encodeGreyGrid(byClass(px, shown), shown * 10, 28, 10, 1));
  written.push(f);
}
if (guidances.includes(3)) {
  const px = new Float32Array(stepsList.length * 10 * 784);
  stepsList.forEach((s, r) => px.set(byClass(grids.get(`${s}/3`)!, 1), r * 10 * 784));
  const f = join(docs, "diffusion-steps-guidance3.png");
  writeFileSync(f, encodeGreyGrid(px, stepsList.length * 10, 28, 10, 1));
  written.push(f);
}

// Training throughput of the same model and batch: the engine's step against PyTorch's, here and now.
const timingSteps = Number(values["timing-steps"]);
const batch = Number((m.run.train as { batchSize?: number }).batchSize ?? 32);
const engine = (() => {
  const { stepOnce } = drawBatchForBench(m.run.model, batch);
  stepOnce();
  const t0 = performance.now();
  for (let i = 0; i < timingSteps; i++) stepOnce();
  return (batch * timingSteps) / ((performance.now() - t0) / 1000);
})();
const specFile = join(outDir, "diffusion-torch-job.json");
writeFileSync(specFile, JSON.stringify({ config: m.run.model, batch, steps: timingSteps, threads: 1 }));
const py = spawnSync("/usr/bin/python3", [join(root, "bench", "diffusion_reference.py"), specFile], { encoding: "utf8", timeout: 1_800_000 });
const torch = py.status === 0 ? (JSON.parse(py.stdout) as { imagesPerSecond: number }).imagesPerSecond : Number.NaN;
if (py.status !== 0) note(`PyTorch reference failed: ${py.stderr.trim().split("\n").pop()}`);

const state = (await import("../src/formats/diffusion-run.js")).readDiffusionCheckpoint;
const ck = await state(m.runDir, m.model.namedParameters().map(([k, t]) => [k, [...t.shape]]));
const trainMinutes = ck.state.elapsedMs / 60000;
console.log(`\nDiffusion model ${m.runDir} (step ${m.step}, ${m.model.numParameters().toLocaleString("en-US")} parameters), ${n} images per setting; classifier test accuracy ${(100 * clfAccuracy).toFixed(2)}%`);
printTable(["steps", "guidance", "cond. accuracy", "Fréchet (32-d)", "images/s"], rows.map((r) => [String(r.steps), String(r.guidance), `${(100 * r.accuracy).toFixed(1)}%`, fmt(r.fd, 2), fmt(r.imagesPerSecond, 2)]));
console.log(`Fréchet floor (${n} real training images vs test): ${floor.toFixed(2)}`);
console.log(`training: ${trainMinutes.toFixed(1)} min for ${ck.step} steps of ${batch} images; same model, batch ${batch}: engine ${fmt(engine, 1)} images/s, PyTorch 1 thread ${fmt(torch, 1)} images/s (${ratio(engine, torch)})`);
const load1 = loadNow();
console.log(`load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; ${describeMachine(machineInfo())}`);
writeJson("diffusion", {
  command: commandLine(), started, load: [load0, load1], run: m.runDir, step: m.step, parameters: m.model.numParameters(), perSetting: n,
  classifierAccuracy: clfAccuracy, fdFloor: floor, rows, trainMinutes, trainSteps: ck.step, batch, engineImagesPerSecond: engine, torchImagesPerSecond: torch, grids: written,
});
