// Fits the answer selector's few parameters (select/score.ts) on a feature dump of
// bench/answer-quality.ts --dump, and shows that they generalise: article-wise cross-validation
// (fit on half the SQuAD articles and half the off-topic questions, measure on the rest), then the
// precision/recall curve of the abstention threshold on all the data.
//
//   node --import tsx bench/answer-tune.ts <dump.jsonl> [--fit]
// Without --fit it evaluates the shipped weights and calibration; with it, searches for new ones.
import { readFileSync } from "node:fs";
import type { Features } from "../src/knowledge/answer/select/candidates.js";
import { RANK_WEIGHTS, SUPPORT_MODEL, scoreOf, supportOf, type SupportModel, type Weights } from "../src/knowledge/answer/select/score.js";
import { fmt, printTable } from "./lib.js";

interface Row {
  id: string;
  set: "answerable" | "unanswerable" | "offtopic";
  title: string;
  candidates: { f: Features; gold: number; rank: number }[];
}

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node --import tsx bench/answer-tune.ts <dump.jsonl> [--fit]\n");
  process.exit(2);
}
const rows = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);

type Best = { row: Row; f: Features | null; gold: number };

/** The best candidate of each question under rank weights w (ties to the better-ranked chunk). */
function best(rs: Row[], w: Weights): Best[] {
  return rs.map((row) => {
    let top = -Infinity;
    let second = -Infinity;
    let pick: Row["candidates"][number] | null = null;
    for (const c of row.candidates) {
      const s = scoreOf(c.f, w);
      if (s > top || (s === top && pick && c.rank < pick.rank)) {
        second = top;
        top = s;
        pick = c;
      } else if (s > second) second = s;
    }
    // The margin under these weights, as the ranker sets it (extractive.ts).
    const margin = pick === null ? 0 : Math.min(1, top - (Number.isFinite(second) ? second : 0));
    return { row, f: pick ? { ...pick.f, margin } : null, gold: pick?.gold ?? 0 };
  });
}

interface Measures {
  first: number;
  wrong: number;
  un: number;
  off: number;
}

function measure(b: Best[], m: SupportModel, minSupport: number): Measures {
  let n = 0, first = 0, answered = 0, wrong = 0, un = 0, unA = 0, off = 0, offA = 0;
  for (const x of b) {
    const says = x.f !== null && supportOf(x.f, m) >= minSupport;
    if (x.row.set === "answerable") {
      n++;
      if (says) {
        answered++;
        if (x.gold) first++;
        else wrong++;
      }
    } else if (x.row.set === "unanswerable") {
      un++;
      if (!says) unA++;
    } else {
      off++;
      if (!says) offA++;
    }
  }
  return { first: first / n, wrong: answered ? wrong / answered : 0, un: unA / un, off: offA / off };
}

const KEYS = Object.keys(RANK_WEIGHTS) as (keyof Features)[];
const answerable = (rs: Row[]): Row[] => rs.filter((r) => r.set === "answerable");
const top1 = (rs: Row[], w: Weights): number => {
  const b = best(answerable(rs), w);
  return b.filter((x) => x.gold).length / b.length;
};

/** Rank weights: coordinate search for the most gold sentences first (coverage fixed at 1 sets the scale). */
function fitRanking(rs: Row[]): Weights {
  let w: Weights = { ...RANK_WEIGHTS };
  let cur = top1(rs, w);
  const grid = [0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2];
  for (let pass = 0; pass < 2; pass++) {
    for (const k of KEYS) {
      if (k === "coverage" || SUPPORT_ONLY.includes(k)) continue;
      for (const v of grid) {
        const cand = { ...w, [k]: v };
        const r = top1(rs, cand);
        if (r > cur + 1e-9) {
          w = cand;
          cur = r;
        }
      }
    }
  }
  return w;
}

// The support model uses the features that say "the question is covered", not the ranking's
// tie-breakers (proximity, novelty, retrieval score), which are collinear with them and fit
// SQuAD's sentence lengths rather than support.
// Negation and margin speak to support only: negation never tells sentences of one question apart
// in rank, and the margin is one value per question.
const SUPPORT_FEATURES: (keyof Features)[] = ["coverage", "localCoverage", "contextCoverage", "chunkCoverage", "evidence", "rareCoverage", "bigrams", "typeMatch", "reciprocalRank", "negationMismatch", "margin"];
const SUPPORT_ONLY: (keyof Features)[] = ["negationMismatch", "margin"];

/** Support model: L2-regularised logistic regression on the best sentence of every question (gold = 1). */
function fitSupport(rs: Row[], w: Weights): SupportModel {
  const pts = best(rs, w).filter((x) => x.f !== null).map((x) => ({ f: x.f!, y: x.row.set === "answerable" && x.gold ? 1 : 0 }));
  const m: SupportModel = { bias: 0, weights: Object.fromEntries(KEYS.map((k) => [k, 0])) as Weights };
  const lambda = 1e-3;
  for (let it = 0; it < 3000; it++) {
    const g = Object.fromEntries(KEYS.map((k) => [k, 0])) as Weights;
    let gb = 0;
    for (const p of pts) {
      const e = supportOf(p.f, m) - p.y;
      gb += e;
      for (const k of SUPPORT_FEATURES) g[k] += e * p.f[k];
    }
    m.bias -= (1 * gb) / pts.length;
    for (const k of SUPPORT_FEATURES) m.weights[k] -= 1 * (g[k] / pts.length + lambda * m.weights[k]);
  }
  return m;
}

const round2 = (m: SupportModel): SupportModel => ({ bias: Number(m.bias.toFixed(2)), weights: Object.fromEntries(KEYS.map((k) => [k, Number(m.weights[k].toFixed(2))])) as Weights });
const fmtM = (m: Measures): string[] => [fmt(m.first, 3), fmt(m.wrong, 3), fmt(m.un, 3), fmt(m.off, 3)];
const SUPPORTS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

// Two article-disjoint folds of SQuAD (and alternate off-topic questions): fit on one, measure on the other.
const titles = [...new Set(rows.filter((r) => r.title).map((r) => r.title))].sort();
const foldOf = (r: Row, i: number): number => (r.title ? titles.indexOf(r.title) % 2 : i % 2);
const folds = [0, 1].map((k) => rows.filter((r, i) => foldOf(r, i) === k));
const minSupport = Number(process.argv[process.argv.indexOf("--min-support") + 1]) || 0.4;

if (process.argv.includes("--fit")) {
  const table: string[][] = [];
  for (const k of [0, 1]) {
    const train = folds[k]!;
    const test = folds[1 - k]!;
    const w = fitRanking(train);
    const m = fitSupport(train, w);
    table.push([`fit on fold ${k}`, fmt(top1(train, w), 3), ...fmtM(measure(best(train, w), m, minSupport)), fmt(top1(test, w), 3), ...fmtM(measure(best(test, w), m, minSupport))]);
  }
  const w = fitRanking(rows);
  const m = fitSupport(rows, w);
  table.push(["fit on all", fmt(top1(rows, w), 3), ...fmtM(measure(best(rows, w), m, minSupport)), "", "", "", "", ""]);
  console.log(`cross-validation, min support ${minSupport}:`);
  printTable(["", "top-1", "first", "wrong", "un", "off", "held-out top-1", "first", "wrong", "un", "off"], table);
  console.log("fitted on all: RANK_WEIGHTS =", JSON.stringify(w), "\nSUPPORT_MODEL =", JSON.stringify(round2(m)));
}

// The shipped parameters: the measures at each support threshold (the precision/recall curve).
const shipped = best(rows, RANK_WEIGHTS);
const curve = SUPPORTS.map((t) => {
  const m = measure(shipped, SUPPORT_MODEL, t);
  return [fmt(t, 1), ...fmtM(m), fmt(1 - m.wrong, 3)];
});
console.log("shipped rank weights and support model, by --min-support (wrong: best sentence only, before padding):");
printTable(["min support", "first sentence gold", "no gold among answered", "unanswerable abstain", "off-topic abstain", "precision"], curve);
const oracle = answerable(rows).filter((r) => r.candidates.some((c) => c.gold)).length / answerable(rows).length;
console.log(`answerable questions with a gold sentence among the candidates: ${fmt(oracle, 3)}; best sentence holds gold (no abstention): ${fmt(top1(rows, RANK_WEIGHTS), 3)}`);
