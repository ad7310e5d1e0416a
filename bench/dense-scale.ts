// Dense search at scale: the approximate index (decision 0009) against the exact scan, in one run.
//
//   node --import tsx bench/dense-scale.ts [--vectors 100000] [--dims 384] [--clusters 2000] [--queries 200] [--seed 42]
//                                          [--m 16] [--ef-add 128] [--ef 96] [--chunks-per-doc 10]
//
// Vectors (deterministic for a seed): a Gaussian mixture, as sentence embeddings look, not uniform
// noise (on which every graph index looks broken). --clusters unit centres; cluster sizes skewed
// (cluster = floor(C · u^1.5)); each cluster has its own per-dimension spread (log-normal scales, so
// clusters are anisotropic ellipsoids) around its centre, at a noise level where a member's cosine
// to its centre is about 0.8; every vector is normalised. Queries are fresh draws from the same mixture.
//
// Store: the vectors are the chunks of documents of --chunks-per-doc chunks, written through the
// store's typed operations (writeDocuments, writeVectors). ACLs: every 100th document is readable by
// group g1 (1% of the chunks), every 10th by group g10 (10%); the rest by group staff only.
//
// Measured, all in this run: the index build (time, RSS, file size); per query, top-10 through
// store.denseSearch with method "ann" (unfiltered, operator), "exact" (the store's exact scan, on
// fewer queries: it reads every vector), and "auto" for a principal of g1 and one of g10 (the exact
// scan of the readable vectors in memory), and "ann" forced for them (the oversampled graph path). Recall@10 is against an exact in-memory scan over the same
// vectors (and the same readable subset for the filtered rows), computed in the same run.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { uniformSource } from "../src/core/random.js";
import type { DenseMethod } from "../src/knowledge/store/backend.js";
import { OWNER } from "../src/knowledge/store/access.js";
import { KnowledgeStore, type DocumentInput } from "../src/knowledge/store/sqlite-store.js";
import type { Principal } from "../src/knowledge/types.js";
import { commandLine, describeMachine, fmt, latencyStats, loadNow, machineInfo, note, now, printTable, round, rssMB, writeJson } from "./lib.js";

const { values: a } = parseArgs({
  options: {
    vectors: { type: "string", default: "100000" },
    dims: { type: "string", default: "384" },
    clusters: { type: "string", default: "2000" },
    queries: { type: "string", default: "200" },
    seed: { type: "string", default: "42" },
    m: { type: "string", default: "16" },
    "ef-add": { type: "string", default: "128" },
    ef: { type: "string", default: "96" },
    "chunks-per-doc": { type: "string", default: "10" },
    "exact-queries": { type: "string", default: "20" },
  },
});
const N = Number(a.vectors);
const D = Number(a.dims);
const C = Number(a.clusters);
const Q = Number(a.queries);
const PER_DOC = Number(a["chunks-per-doc"]);
const K = 10;

/** The mixture's centres and shapes come from `seed`; the draws from `drawSeed`. */
function mixture(seed: number, drawSeed: number): { draw: (out: Float32Array, at: number) => void } {
  let rand = uniformSource(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const centres = new Float32Array(C * D);
  const scales = new Float32Array(C * D);
  for (let c = 0; c < C; c++) {
    let norm = 0;
    for (let j = 0; j < D; j++) {
      const x = gauss();
      centres[c * D + j] = x;
      norm += x * x;
      scales[c * D + j] = Math.exp(0.5 * gauss());
    }
    for (let j = 0; j < D; j++) centres[c * D + j]! /= Math.sqrt(norm);
  }
  // Noise so that |noise| ≈ 0.75 (cos to the centre ≈ 0.8), E[scale] = e^(1/8) ≈ 1.13.
  const sigma = 0.75 / Math.sqrt(D) / 1.13;
  rand = uniformSource(drawSeed);
  return {
    draw(out, at) {
      const c = Math.floor(C * rand() ** 1.5);
      let norm = 0;
      for (let j = 0; j < D; j++) {
        const x = centres[c * D + j]! + sigma * scales[c * D + j]! * gauss();
        out[at + j] = x;
        norm += x * x;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let j = 0; j < D; j++) out[at + j]! *= inv;
    },
  };
}

/** Exact top-k chunk indices over `vectors` (optionally only chunks whose document passes `allow`). */
function exactTop(vectors: Float32Array, q: Float32Array, k: number, allow?: (chunk: number) => boolean): number[] {
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < N; i++) {
    if (allow && !allow(i)) continue;
    let s = 0;
    const o = i * D;
    for (let j = 0; j < D; j++) s += vectors[o + j]! * q[j]!;
    if (best.length < k) {
      best.push({ i, s });
      best.sort((x, y) => y.s - x.s);
    } else if (s > best[k - 1]!.s) {
      best[k - 1] = { i, s };
      best.sort((x, y) => y.s - x.s);
    }
  }
  return best.map((b) => b.i);
}

const docOf = (chunk: number): number => Math.floor(chunk / PER_DOC);
const inG1 = (doc: number): boolean => doc % 100 === 0;
const inG10 = (doc: number): boolean => doc % 10 === 0;

async function main(): Promise<void> {
  const machine = machineInfo();
  note(`dense-scale: ${N} x ${D}, ${C} clusters, load ${loadNow()}`);
  const dir = mkdtempSync(join(tmpdir(), "strata-dense-scale-"));
  const results: Record<string, unknown> = { command: commandLine(), machine, vectors: N, dims: D, clusters: C, queries: Q, load_start: loadNow() };
  try {
    const vectors = new Float32Array(N * D);
    const gen = mixture(Number(a.seed), Number(a.seed) + 1);
    for (let i = 0; i < N; i++) gen.draw(vectors, i * D);
    const queries = new Float32Array(Q * D);
    const qgen = mixture(Number(a.seed), Number(a.seed) + 2);
    for (let i = 0; i < Q; i++) qgen.draw(queries, i * D);
    const query = (i: number): Float32Array => queries.subarray(i * D, (i + 1) * D);

    const store = KnowledgeStore.open(join(dir, "kb"), { create: true });
    let t = now();
    const docs = Math.ceil(N / PER_DOC);
    for (let d0 = 0; d0 < docs; d0 += 1000) {
      const batch: DocumentInput[] = [];
      for (let d = d0; d < Math.min(docs, d0 + 1000); d++) {
        const chunks = Array.from({ length: Math.min(PER_DOC, N - d * PER_DOC) }, (_, j) => `c${d * PER_DOC + j}`);
        const text = chunks.join("\n\n");
        let at = 0;
        const groups = [...(inG1(d) ? ["g1"] : []), ...(inG10(d) ? ["g10"] : []), "staff"];
        batch.push({
          docId: `d${d}`,
          source: `mem:d${d}`,
          title: "",
          mime: "text/plain",
          hash: `h${d}`,
          size: text.length,
          text,
          acl: { users: [], groups },
          tags: [],
          chunks: chunks.map((c, j) => {
            const start = at;
            at += c.length + 2;
            return { ordinal: j, start, end: start + c.length, text: c, headingPath: [] };
          }),
        });
      }
      store.writeDocuments(batch);
    }
    let after = 0;
    for (;;) {
      const todo = store.chunksWithoutVector("m", after, 10_000);
      if (todo.length === 0) break;
      after = todo[todo.length - 1]!.rowid;
      store.writeVectors("m", D, todo.map((c) => { const i = Number(c.text.slice(1)); return { rowid: c.rowid, chunkId: c.chunkId, vector: vectors.subarray(i * D, (i + 1) * D) }; }));
    }
    results.store_write_s = round((now() - t) / 1000, 1);
    note(`stored ${N} chunks with vectors in ${results.store_write_s} s`);

    const params = { connectivity: Number(a.m), expansionAdd: Number(a["ef-add"]), expansionSearch: Number(a.ef) };
    let lastNote = 0;
    store.dense.tuning = {
      ...store.dense.tuning,
      params,
      onProgress: (e) => {
        if (now() - lastNote > 10_000 || e.done === e.total) {
          lastNote = now();
          note(`index ${e.done}/${e.total ?? "?"} ${e.item ?? ""} (${round((now() - t) / 1000, 0)} s, load ${loadNow()})`);
        }
      },
    };
    const rssBefore = rssMB();
    t = now();
    store.dense.prepare("m");
    const buildS = (now() - t) / 1000;
    const kbDir = join(dir, "kb");
    const indexBytes = statSync(join(kbDir, readdirSync(kbDir).find((f) => f.endsWith(".usearch"))!)).size;
    results.build = { seconds: round(buildS, 1), rss_mb_before: rssBefore, rss_mb_after: rssMB(), index_file_mb: round(indexBytes / 2 ** 20, 1), params, load: loadNow() };
    note(`built in ${round(buildS, 1)} s, RSS ${rssMB()} MB, index ${round(indexBytes / 2 ** 20, 1)} MB`);

    const textToChunk = (text: string): number => Number(text.slice(1));
    const g1: Principal = { user: "u1", groups: ["g1"] };
    const g10: Principal = { user: "u10", groups: ["g10"] };
    const cases: { name: string; access: Principal | typeof OWNER; method: DenseMethod; allow?: (c: number) => boolean; n: number }[] = [
      { name: "ann, no filter", access: OWNER, method: "ann", n: Q },
      { name: "exact scan (store), no filter", access: OWNER, method: "exact", n: Math.min(Q, Number(a["exact-queries"])) },
      { name: "auto, ACL 1%", access: g1, method: "auto", allow: (c) => inG1(docOf(c)), n: Q },
      { name: "ann forced, ACL 1%", access: g1, method: "ann", allow: (c) => inG1(docOf(c)), n: Q },
      { name: "auto, ACL 10%", access: g10, method: "auto", allow: (c) => inG10(docOf(c)), n: Q },
      { name: "ann forced, ACL 10%", access: g10, method: "ann", allow: (c) => inG10(docOf(c)), n: Q },
    ];
    const rows: string[][] = [];
    const measured: Record<string, unknown>[] = [];
    for (const c of cases) {
      for (let i = 0; i < Math.min(10, c.n); i++) store.denseSearch("m", query(i), { k: K, access: c.access, method: c.method });
      const ms: number[] = [];
      let recall = 0;
      let full = 0;
      for (let i = 0; i < c.n; i++) {
        const t0 = now();
        const hits = store.denseSearch("m", query(i), { k: K, access: c.access, method: c.method });
        ms.push(now() - t0);
        const truth = new Set(exactTop(vectors, query(i), K, c.allow));
        recall += hits.filter((h) => truth.has(textToChunk(h.text))).length / truth.size;
        if (hits.length === K) full++;
      }
      const st = latencyStats(ms);
      const r = { case: c.name, queries: c.n, recall_at_10: round(recall / c.n, 4), k_returned: `${full}/${c.n}`, ...st, load: loadNow() };
      measured.push(r);
      rows.push([c.name, String(c.n), fmt(r.recall_at_10, 4), r.k_returned, fmt(st.p50_ms, 2), fmt(st.p95_ms, 2), fmt(st.p99_ms, 2), String(r.load)]);
      note(`${c.name}: recall ${r.recall_at_10}, p50 ${st.p50_ms} ms, p95 ${st.p95_ms} ms`);
    }
    // The in-memory exact scan of the reference, timed too (plain JS, one thread).
    const ref: number[] = [];
    for (let i = 0; i < Math.min(Q, 20); i++) {
      const t0 = now();
      exactTop(vectors, query(i), K);
      ref.push(now() - t0);
    }
    const rs = latencyStats(ref);
    rows.push(["exact scan (in memory, JS), no filter", String(ref.length), "1.0000", "–", fmt(rs.p50_ms, 2), fmt(rs.p95_ms, 2), fmt(rs.p99_ms, 2), String(loadNow())]);
    results.cases = measured;
    results.reference_in_memory = rs;
    results.load_end = loadNow();
    store.close();
    process.stdout.write(`\n${describeMachine(machine)}; ${N} x ${D}, ${C} clusters; build ${round(buildS, 1)} s, RSS ${rssMB()} MB\n\n`);
    const md = printTable(["search", "queries", "recall@10", "k returned", "p50 ms", "p95 ms", "p99 ms", "load"], rows);
    results.markdown = md;
    note(`wrote ${writeJson(`dense-scale-${N}`, results)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
