// Fits the answer selector's few parameters (select/score.ts) on a feature dump of
// bench/answer-quality.ts --dump, and shows that they generalise: article-wise cross-validation
// (fit on half the SQuAD articles and half the off-topic questions, measure on the rest), then the
// precision/recall curve of the abstention threshold on all the data.
//
//   node --import tsx bench/answer-tune.ts <dump.jsonl> [--fit]
// Without --fit it evaluates the shipped weights and calibration; with it, searches for new ones.
import { readFileSync } from "node:fs";
import type { Features } from "../src/knowledge/answer/select/candidates.js";
import { DEFAULT_CALIBRATION, DEFAULT_WEIGHTS, scoreOf, supportOf, type Weights } from "../src/knowledge/answer/select/score.js";
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

/** The best candidate of each question under weights w: its score and whether it holds gold. */
function best(rs: Row[], w: Weights): { row: Row; score: number; gold: number }[] {
  return rs.map((row) => {
    let top = -Infinity;
    let gold = 0;
    for (const c of row.candidates) {
      const s = scoreOf(c.f, w);
      if (s > top) {
        top = s;
        gold = c.gold;
      }
    }
    return { row, score: top, gold };
  });
}

interface Measures {
  first: number;
  wrong: number;
  un: number;
  off: number;
}

function measure(b: ReturnType<typeof best>, threshold: number): Measures {
  let n = 0, first = 0, answered = 0, wrong = 0, un = 0, unA = 0, off = 0, offA = 0;
  for (const x of b) {
    const says = x.score >= threshold;
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

// One number to maximise: the gold share, with the goals as hard-ish constraints.
function objective(m: Measures): number {
  return m.first - 2 * Math.max(0, m.wrong - 0.1) - 1 * Math.max(0, 0.5 - m.un) - 4 * Math.max(0, 0.95 - m.off);
}

function bestThreshold(b: ReturnType<typeof best>): { t: number; m: Measures; obj: number } {
  const scores = [...new Set(b.map((x) => x.score))].sort((x, y) => x - y);
  let out = { t: 0, m: measure(b, 0), obj: -Infinity };
  for (const t of scores) {
    const m = measure(b, t);
    const obj = objective(m);
    if (obj > out.obj) out = { t, m, obj };
  }
  return out;
}

const KEYS = Object.keys(DEFAULT_WEIGHTS) as (keyof Features)[];

/** Coordinate search over the weights (coverage fixed at 1: the scale is the threshold's). */
function fit(rs: Row[]): { w: Weights; t: number } {
  let w: Weights = { ...DEFAULT_WEIGHTS };
  let cur = bestThreshold(best(rs, w));
  const grid = [-0.5, -0.2, 0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2];
  for (let pass = 0; pass < 3; pass++) {
    for (const k of KEYS) {
      if (k === "coverage") continue;
      for (const v of grid) {
        const cand = { ...w, [k]: v };
        const r = bestThreshold(best(rs, cand));
        if (r.obj > cur.obj + 1e-9) {
          w = cand;
          cur = r;
        }
      }
    }
  }
  return { w, t: cur.t };
}

const fmtM = (m: Measures): string[] => [fmt(m.first, 3), fmt(m.wrong, 3), fmt(m.un, 3), fmt(m.off, 3)];

// Two article-disjoint folds of SQuAD (and alternate off-topic questions): fit on one, measure on the other.
const titles = [...new Set(rows.filter((r) => r.title).map((r) => r.title))].sort();
const foldOf = (r: Row, i: number): number => (r.title ? titles.indexOf(r.title) % 2 : i % 2);
const folds = [0, 1].map((k) => rows.filter((r, i) => foldOf(r, i) === k));

if (process.argv.includes("--fit")) {
  const table: string[][] = [];
  for (const k of [0, 1]) {
    const train = folds[k]!;
    const test = folds[1 - k]!;
    const { w, t } = fit(train);
    table.push([`fit on fold ${k}`, ...fmtM(measure(best(train, w), t)), ...fmtM(measure(best(test, w), t)), JSON.stringify(w), fmt(t, 3)]);
  }
  const all = fit(rows);
  table.push(["fit on all", ...fmtM(measure(best(rows, all.w), all.t)), "", "", "", "", JSON.stringify(all.w), fmt(all.t, 3)]);
  printTable(["", "first", "wrong", "un", "off", "held-out first", "wrong", "un", "off", "weights", "threshold"], table);
}

// The shipped parameters: the measures at each support threshold (the precision/recall curve).
const shipped = best(rows, DEFAULT_WEIGHTS);
const curve: string[][] = [];
for (const minSupport of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
  const withSupport = shipped.map((x) => ({ ...x, score: supportOf(x.score, DEFAULT_CALIBRATION) }));
  const m = measure(withSupport, minSupport);
  curve.push([fmt(minSupport, 1), ...fmtM(m), fmt(1 - m.wrong, 3)]);
}
console.log("shipped weights and calibration, by --min-support:");
printTable(["min support", "first sentence gold", "no gold among answered", "unanswerable abstain", "off-topic abstain", "precision"], curve);
const oracle = rows.filter((r) => r.set === "answerable" && r.candidates.some((c) => c.gold)).length / rows.filter((r) => r.set === "answerable").length;
const top1 = best(rows.filter((r) => r.set === "answerable"), DEFAULT_WEIGHTS);
console.log(`answerable questions with a gold sentence among the candidates: ${fmt(oracle, 3)}; best sentence holds gold (no abstention): ${fmt(top1.filter((x) => x.gold).length / top1.length, 3)}`);

// Logistic calibration of the best sentence's score (labels: holds gold = 1; a wrong sentence, an
// unanswerable or an off-topic question = 0), by gradient descent on the log loss.
{
  const pts = shipped.filter((x) => Number.isFinite(x.score)).map((x) => ({ s: x.score, y: x.row.set === "answerable" && x.gold ? 1 : 0 }));
  let a = 1, b = 0;
  for (let it = 0; it < 20000; it++) {
    let ga = 0, gb = 0;
    for (const p of pts) {
      const e = 1 / (1 + Math.exp(-(a * p.s + b))) - p.y;
      ga += e * p.s;
      gb += e;
    }
    a -= (0.05 * ga) / pts.length;
    b -= (0.2 * gb) / pts.length;
  }
  console.log(`logistic calibration of the shipped score: a ${fmt(a, 3)}, b ${fmt(b, 3)} (shipped: a ${DEFAULT_CALIBRATION.a}, b ${DEFAULT_CALIBRATION.b})`);
}
