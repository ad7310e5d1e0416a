// Synthetic scale run: how Strata's store builds and searches as the number of chunks grows.
//
//   node --import tsx bench/scale.ts [--chunks 1000000] [--max-minutes 15] [--queries 200] [--seed 42] [--zipf 1] [--vocab 50000]
//   npm run build && node dist/bench/scale.js --chunks 100000
//
// Corpus (deterministic for a seed): a vocabulary of --vocab made-up words (2–4 consonant-vowel
// syllables, each one analysed term that no other word shares; the shortest words get the highest
// ranks), and --chunks chunks of 32–48 words (about 40) drawn from a Zipf distribution over that
// vocabulary (P(rank r) ∝ 1/r^s, s = --zipf), each with a title of 2–5 words from the same
// distribution. Every chunk is its own document (one chunk per document, as `strata eval retrieval`
// stores a BEIR corpus), written through `kb.writeMany` in batches of 5,000 documents per
// transaction (one index segment each; merges follow). Note that a pure Zipf vocabulary keeps its most common words, which real text would
// mostly lose to the stop list: the top word is in almost every chunk, so this is harder than text.
//
// The build stops early, at a batch boundary, once --max-minutes have passed; the rest of the run
// then works on what was built, and the report gives the extrapolated time for the full count.
//
// Queries: --queries queries of 2–4 words; each word is drawn either from the Zipf distribution
// (common words) or uniformly from the vocabulary (mostly rare words), half and half, with another seed.
// Latency: kb.search(q, {k: 10}) after a warm-up of 20 queries; p50/p95/p99.
//
// Reference, in the same run: an exhaustive in-memory BM25F over the same postings, read back from the
// store (terms, postings, chunk lengths), with the same formula and parameters (src/knowledge/bm25.ts):
// every posting of every query term is scored, no pruning. It checks what Strata ranks (top-10
// overlap; ties at the 10th score count as agreement) and gives the latency ratio.

import { existsSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { analyze } from "../src/knowledge/analyzer.js";
import { DEFAULT_BM25 } from "../src/knowledge/bm25.js";
import { KnowledgeBase, type DocumentSource } from "../src/knowledge/knowledge-base.js";
import { OWNER } from "../src/knowledge/store/access.js";
import {
  commandLine,
  describeMachine,
  fmt,
  fmtBytes,
  folderBytes,
  latencyStats,
  loadNow,
  machineInfo,
  note,
  now,
  printTable,
  ratio,
  round,
  rssMB,
  settle,
  writeJson,
} from "./lib.js";
import { uniformSource } from "../src/core/random.js";
import { InMemoryBm25f } from "./exhaustive-bm25f.js";
import { Fts5Reference } from "./fts5-reference.js";

const K = 10;
/** Documents per writeMany transaction (and index segment). */
const BATCH = 5000;

/** The repository's one seeded generator; floats in [0, 1). */
const prng = uniformSource;

const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** `size` distinct words, each analysed to one term of its own, shortest first (rank 1 = index 0). */
function makeVocabulary(size: number, rand: () => number): string[] {
  const consonants = "bdfgklmnprstvz";
  const vowels = "aeiou";
  const words: string[] = [];
  const terms = new Set<string>();
  const seen = new Set<string>();
  let attempts = 0;
  while (words.length < size) {
    if (++attempts > size * 50) throw new Error(`could not make ${size} distinct words`);
    const syllables = int(rand, 2, 4);
    let w = "";
    for (let i = 0; i < syllables; i++) w += (consonants[int(rand, 0, consonants.length - 1)] as string) + (vowels[int(rand, 0, vowels.length - 1)] as string);
    if (rand() < 0.3) w += consonants[int(rand, 0, consonants.length - 1)] as string;
    if (seen.has(w)) continue;
    seen.add(w);
    const a = analyze(w);
    if (a.length !== 1 || terms.has(a[0] as string)) continue;
    terms.add(a[0] as string);
    words.push(w);
  }
  return words.sort((x, y) => x.length - y.length || (x < y ? -1 : 1));
}

/** Sampler of ranks 0..n-1 with P(r) ∝ 1/(r+1)^s, by binary search in the cumulative weights. */
function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / Math.pow(r + 1, s);
  return () => {
    const u = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Corpus {
  /** Documents i = from..to-1, generated on demand (the same for a seed, whatever the slice). */
  slice(from: number, to: number): Generator<DocumentSource>;
  /** Distinct (term, chunk) pairs generated so far: the postings the store should hold. */
  expectedPostings: number;
}

function makeCorpus(vocab: string[], zipf: number, seed: number): Corpus {
  const rand = prng(seed);
  const draw = zipfSampler(vocab.length, zipf, rand);
  const distinct = new Set<number>();
  const corpus: Corpus = {
    expectedPostings: 0,
    *slice(from: number, to: number) {
      for (let i = from; i < to; i++) {
        distinct.clear();
        const words = (n: number): string => {
          const out: string[] = [];
          for (let j = 0; j < n; j++) {
            const r = draw();
            distinct.add(r);
            out.push(vocab[r] as string);
          }
          return out.join(" ");
        };
        const title = words(int(rand, 2, 5));
        const text = words(int(rand, 32, 48));
        corpus.expectedPostings += distinct.size;
        yield {
          source: `synthetic:${String(i).padStart(8, "0")}`,
          document: { text, title, mime: "text/plain", blocks: [{ kind: "paragraph", start: 0, end: text.length }] },
        };
      }
    },
  };
  return corpus;
}

function makeQueries(vocab: string[], zipf: number, seed: number, n: number): string[] {
  const rand = prng(seed);
  const draw = zipfSampler(vocab.length, zipf, rand);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const words: string[] = [];
    const len = int(rand, 2, 4);
    for (let j = 0; j < len; j++) words.push(vocab[rand() < 0.5 ? draw() : int(rand, 0, vocab.length - 1)] as string);
    out.push(words.join(" "));
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chunks: { type: "string", default: "1000000" },
      "max-minutes": { type: "string", default: "15" },
      queries: { type: "string", default: "200" },
      seed: { type: "string", default: "42" },
      zipf: { type: "string", default: "1" },
      vocab: { type: "string", default: "50000" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      fts5: { type: "boolean", default: true },
    },
  });
  const target = Number(values.chunks);
  const maxMs = Number(values["max-minutes"]) * 60_000;
  const nQueries = Number(values.queries);
  const seed = Number(values.seed);
  const zipf = Number(values.zipf);
  const vocabSize = Number(values.vocab);
  for (const [name, v] of [["--chunks", target], ["--queries", nQueries], ["--vocab", vocabSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number >= 1`);
  }
  const machine = machineInfo();
  note(`scale: ${fmt(target)} chunks, vocabulary ${fmt(vocabSize)}, zipf s = ${zipf}, seed ${seed}, budget ${values["max-minutes"]} min; ${describeMachine(machine)}`);

  const work = values.dir ?? mkdtempSync(join(tmpdir(), "strata-bench-scale-"));
  const kbDir = join(work, "kb");
  if (existsSync(kbDir)) throw new Error(`${kbDir} exists; pass a new --dir`);
  try {
    let t0 = now();
    const vocab = makeVocabulary(vocabSize, prng(seed));
    const queries = makeQueries(vocab, zipf, seed + 1, nQueries);
    const corpus = makeCorpus(vocab, zipf, seed + 2);
    note(`vocabulary made in ${fmt(now() - t0)} ms (words of ${vocab[0]?.length}–${vocab[vocab.length - 1]?.length} letters; top words: ${vocab.slice(0, 5).join(", ")})`);

    // 1. Build, in slices, with progress lines and the time budget.
    const kb = KnowledgeBase.open(kbDir, { create: true });
    const slice = Math.max(500, Math.min(50_000, Math.round(target / 40 / 500) * 500 || 500));
    const progress: { chunks: number; s: number; chunks_per_s: number; store_bytes: number; rss_mb: number }[] = [];
    let built = 0;
    let stopped = false;
    t0 = now();
    let tSlice = t0;
    while (built < target) {
      const to = Math.min(target, built + slice);
      kb.writeMany(corpus.slice(built, to), { chunking: { maxChars: 100_000, overlapChars: 0 }, batch: BATCH });
      built = to;
      const t = now();
      const store = folderBytes(kbDir, (f) => f.startsWith("strata.db"));
      const p = { chunks: built, s: round((t - t0) / 1000, 1), chunks_per_s: round((slice * 1000) / (t - tSlice), 0), store_bytes: store, rss_mb: rssMB() };
      progress.push(p);
      const overall = (built * 1000) / (t - t0);
      const free = statfsSync(work);
      note(
        `built ${fmt(built)}/${fmt(target)} chunks  ${fmt(p.s, 1)} s  ${fmt(overall)} chunks/s overall, ${fmt(p.chunks_per_s)} last slice  ` +
          `store ${fmtBytes(store)}  rss ${p.rss_mb} MB  eta ${fmt((target - built) / p.chunks_per_s / 60, 1)} min`,
      );
      tSlice = t;
      if (free.bavail * free.bsize < 5e9) {
        note("stopping: under 5 GB of disk left");
        stopped = true;
        break;
      }
      if (t - t0 > maxMs && built < target) {
        note(`stopping: the ${values["max-minutes"]}-minute budget is spent`);
        stopped = true;
        break;
      }
    }
    const buildMs = now() - t0;
    const count = (sql: string): number => (kb.store.db.prepare(sql).get() as { n: number }).n;
    const chunks = count("SELECT count(*) AS n FROM chunks");
    // Counted from the segments when the reference loads them (below).
    let postings = 0;
    const terms = count("SELECT count(*) AS n FROM terms");
    const dbBytes = folderBytes(kbDir, (f) => f === "strata.db");
    const walBytes = folderBytes(kbDir, (f) => f === "strata.db-wal");
    const last = progress[progress.length - 1];
    const lastRate = last?.chunks_per_s ?? 0;
    const build = {
      target,
      chunks,
      stopped_early: stopped,
      ms: round(buildMs, 0),
      chunks_per_s: round((chunks * 1000) / buildMs, 0),
      last_slice_chunks_per_s: lastRate,
      extrapolated_total_min: stopped ? round((buildMs + ((target - chunks) / lastRate) * 1000) / 60_000, 1) : null,
      postings,
      expected_postings: corpus.expectedPostings,
      terms,
      db_bytes: dbBytes,
      wal_bytes: walBytes,
      bytes_per_chunk: round((dbBytes + walBytes) / chunks, 0),
      progress,
    };
    note(`built ${fmt(chunks)} chunks in ${fmt(buildMs / 1000, 1)} s; ${fmt(terms)} terms, ${fmtBytes(dbBytes + walBytes)}, rss ${rssMB()} MB`);

    // 2. Strata search latency.
    await settle();
    for (const q of queries.slice(0, 20)) await kb.search(q, { k: K, access: OWNER });
    const strataMs: number[] = [];
    const strataTop: { chunkIds: string[]; scores: number[] }[] = [];
    for (const [i, q] of queries.entries()) {
      const t = now();
      const hits = await kb.search(q, { k: K, access: OWNER });
      strataMs.push(now() - t);
      strataTop.push({ chunkIds: hits.map((h) => h.chunkId), scores: hits.map((h) => h.score) });
      if ((i + 1) % 50 === 0) note(`strata queries ${i + 1}/${queries.length}`);
    }
    const strata = latencyStats(strataMs);
    note(`strata search: p50 ${strata.p50_ms} ms, p95 ${strata.p95_ms} ms`);

    // 3. Reference: exhaustive in-memory BM25F over the same postings.
    await settle();
    t0 = now();
    const ref = InMemoryBm25f.load(kb, DEFAULT_BM25);
    const loadMs = now() - t0;
    note(`reference loaded ${fmt(ref.postings)} postings in ${fmt(loadMs / 1000, 1)} s, rss ${rssMB()} MB`);
    postings = build.postings = ref.postings;
    if (postings !== corpus.expectedPostings) note(`warning: the store holds ${postings} postings, the generator made ${corpus.expectedPostings}`);
    for (const q of queries.slice(0, 20)) ref.search(q, K);
    const refMs: number[] = [];
    const refTop: { rowid: number; score: number }[][] = [];
    for (const q of queries) {
      const t = now();
      refTop.push(ref.search(q, K));
      refMs.push(now() - t);
    }
    const reference = latencyStats(refMs);

    // Agreement: overlap of the top 10 (chunk ids), and whether the lists differ only by ties at the cut.
    const idOf = kb.store.db.prepare("SELECT chunk_id FROM chunks WHERE rowid = ?").pluck();
    let overlapSum = 0;
    let agree = 0;
    let maxScoreDiff = 0;
    const disagreements: { query: string; strata: string[]; reference: string[] }[] = [];
    for (let i = 0; i < queries.length; i++) {
      const s = strataTop[i] as { chunkIds: string[]; scores: number[] };
      const r = (refTop[i] as { rowid: number; score: number }[]).map((h) => ({ id: idOf.get(h.rowid) as string, score: h.score }));
      const rs = new Set(r.map((h) => h.id));
      const common = s.chunkIds.filter((id) => rs.has(id)).length;
      const denom = Math.max(s.chunkIds.length, r.length, 1);
      overlapSum += s.chunkIds.length === 0 && r.length === 0 ? 1 : common / denom;
      for (let j = 0; j < Math.min(s.scores.length, r.length); j++) maxScoreDiff = Math.max(maxScoreDiff, Math.abs((s.scores[j] as number) - (r[j] as { score: number }).score));
      const cut = r[r.length - 1]?.score ?? 0;
      const tol = 1e-9 * Math.max(1, Math.abs(cut));
      const sameLength = s.chunkIds.length === r.length;
      const onlyTies = sameLength && r.every((h) => s.chunkIds.includes(h.id) || Math.abs(h.score - cut) <= tol);
      if (onlyTies) agree++;
      else if (disagreements.length < 5) disagreements.push({ query: queries[i] as string, strata: s.chunkIds, reference: r.map((h) => h.id) });
    }
    // 4. Reference: SQLite FTS5 bm25() over the same analysed text, in its own file.
    let fts5: { build_ms: number; search: ReturnType<typeof latencyStats> } | null = null;
    if (values.fts5) {
      await settle();
      const fts = new Fts5Reference(join(work, "fts5.db"));
      const again = makeCorpus(vocab, zipf, seed + 2);
      const tb = now();
      for (let from = 0; from < chunks; from += 50_000) {
        let id = from;
        fts.add((function* () {
          for (const d of again.slice(from, Math.min(chunks, from + 50_000))) yield { id: ++id, title: d.document.title ?? "", text: d.document.text };
        })());
      }
      const buildFtsMs = now() - tb;
      for (const q of queries.slice(0, 20)) fts.search(q, K);
      const ms: number[] = [];
      for (const q of queries) {
        const t = now();
        fts.search(q, K);
        ms.push(now() - t);
      }
      fts.close();
      fts5 = { build_ms: round(buildFtsMs, 0), search: latencyStats(ms) };
      note(`fts5: built in ${fmt(buildFtsMs / 1000, 1)} s; p50 ${fts5.search.p50_ms} ms, p95 ${fts5.search.p95_ms} ms`);
    }
    const agreement = { mean_overlap_at_10: round(overlapSum / queries.length, 4), same_top10_modulo_ties: agree, queries: queries.length, max_score_diff: maxScoreDiff, examples: disagreements };
    kb.close();

    // Report.
    process.stdout.write(`\nScale: ${fmt(chunks)} synthetic chunks (target ${fmt(target)}), one chunk per document, Zipf s = ${zipf} over ${fmt(vocabSize)} words — ${describeMachine(machine)}\n\n`);
    const buildTable = printTable(
      ["chunks", "build s", "chunks/s", "last slice/s", "postings", "store", "bytes/chunk", "full-target min"],
      [
        [
          fmt(chunks),
          fmt(buildMs / 1000, 1),
          fmt(build.chunks_per_s),
          fmt(lastRate),
          fmt(postings),
          fmtBytes(dbBytes + walBytes),
          fmt(build.bytes_per_chunk),
          build.extrapolated_total_min === null ? "–" : `≈ ${fmt(build.extrapolated_total_min, 0)} (extrapolated)`,
        ],
      ],
    );
    process.stdout.write(`\nSearch, ${queries.length} queries of 2–4 words, k = ${K}\n\n`);
    const searchTable = printTable(
      ["system", "q/s", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
      [
        ["strata kb.search", fmt(strata.per_s, 1), fmt(strata.mean_ms, 2), fmt(strata.p50_ms, 2), fmt(strata.p95_ms, 2), fmt(strata.p99_ms, 2), fmt(strata.max_ms, 2)],
        ["ref: in-memory exhaustive BM25F", fmt(reference.per_s, 1), fmt(reference.mean_ms, 2), fmt(reference.p50_ms, 2), fmt(reference.p95_ms, 2), fmt(reference.p99_ms, 2), fmt(reference.max_ms, 2)],
        ["strata ÷ reference", ratio(strata.per_s, reference.per_s), ratio(strata.mean_ms, reference.mean_ms), ratio(strata.p50_ms, reference.p50_ms), ratio(strata.p95_ms, reference.p95_ms), ratio(strata.p99_ms, reference.p99_ms), "–"],
        ...(fts5
          ? [
              ["ref: SQLite FTS5 bm25()", fmt(fts5.search.per_s, 1), fmt(fts5.search.mean_ms, 2), fmt(fts5.search.p50_ms, 2), fmt(fts5.search.p95_ms, 2), fmt(fts5.search.p99_ms, 2), fmt(fts5.search.max_ms, 2)],
              ["strata ÷ FTS5", ratio(strata.per_s, fts5.search.per_s), ratio(strata.mean_ms, fts5.search.mean_ms), ratio(strata.p50_ms, fts5.search.p50_ms), ratio(strata.p95_ms, fts5.search.p95_ms), ratio(strata.p99_ms, fts5.search.p99_ms), "–"],
            ]
          : []),
      ],
    );
    process.stdout.write(
      `\nagreement with the reference: mean top-10 overlap ${agreement.mean_overlap_at_10}, identical top 10 (up to ties at the 10th score) on ${agree}/${queries.length} queries, largest score difference ${maxScoreDiff.toExponential(2)}\n`,
    );
    const file = writeJson(`scale-${target}`, {
      benchmark: "scale",
      command: commandLine(),
      machine,
    load_at_end: loadNow(),
      settings: { target, vocab: vocabSize, zipf, seed, queries: nQueries, k: K, chunking: "one chunk per document", batch: BATCH, bm25: DEFAULT_BM25 },
      sample_queries: queries.slice(0, 10),
      build,
      search: strata,
      reference: { load_ms: round(loadMs, 0), search: reference },
      fts5,
      peak_build_rss_mb: Math.max(...progress.map((p) => p.rss_mb)),
      agreement,
      markdown: { build: buildTable, search: searchTable },
    });
    process.stdout.write(`\nwrote ${file}\n`);
  } finally {
    if (values.keep) note(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
