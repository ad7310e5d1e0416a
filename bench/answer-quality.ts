// Answer quality of the embedded default (extractive, no model) against the answerer before the
// answer-quality work (bench/reference/), both on the same retrieved chunks:
//   - SQuAD 2.0 public half (../shared/data/squad): share of answerable questions whose first quoted
//     sentence holds a gold answer (SQuAD normalisation), share of given answers holding no gold,
//     share of unanswerable questions that abstain;
//   - our off-topic general-knowledge questions (bench/data/offtopic.txt): share that abstain;
//   - answer time per question on top of retrieval;
//   - where the answerable questions are lost: no gold sentence among the candidates (retrieval),
//     a gold sentence there but another one first (selection), the gold sentence first but below the
//     support bar (abstention).
// The corpus is ingested as Markdown files (`# Title` + passage), as the public check does.
// --dump <file> writes every candidate sentence's features and label for bench/answer-tune.ts.
//
//   node --import tsx bench/answer-quality.ts [--data <squad dir>] [--offtopic <file>] [--dump <file>]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnowledgeBase } from "../src/knowledge/knowledge-base.js";
import { DEFAULT_EXTRACTIVE, answerExtractively, rankSentences } from "../src/knowledge/answer/extractive.js";
import { forgetChunks } from "../src/knowledge/answer/select/candidates.js";
import type { GroundedAnswer } from "../src/knowledge/answer/types.js";
import type { SearchHit } from "../src/knowledge/types.js";
import { answerExtractively as answerBefore } from "./reference/extractive-base.js";
import { describeMachine, fmt, machineInfo, printTable, repoRoot, requireDataset, writeJson } from "./lib.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const data = flag("--data") ?? requireDataset("squad");
const offtopicFile = flag("--offtopic") ?? join(repoRoot(), "bench", "data", "offtopic.txt");
const dumpFile = flag("--dump");

interface Question {
  id: string;
  question: string;
  answers?: string[];
  title: string;
  set: "answerable" | "unanswerable" | "offtopic";
}

/** SQuAD's normalisation: lower case, no punctuation, no articles, single spaces. */
export const normalize = (s: string): string =>
  s.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, " ").replace(/\b(a|an|the)\b/g, " ").replace(/\s+/g, " ").trim();

const jsonl = <T>(f: string): T[] => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as T);

const questions: Question[] = [
  ...jsonl<Omit<Question, "set">>(join(data, "questions.jsonl")).map((q) => ({ ...q, set: "answerable" as const })),
  ...jsonl<Omit<Question, "set">>(join(data, "unanswerable.jsonl")).map((q) => ({ ...q, set: "unanswerable" as const })),
  ...readFileSync(offtopicFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((q, i) => ({ id: `offtopic-${i}`, question: q, title: "", set: "offtopic" as const })),
];

const root = mkdtempSync(join(tmpdir(), "strata-answer-quality-"));
try {
  const files = join(root, "docs");
  mkdirSync(files);
  for (const d of jsonl<{ _id: string; title: string; text: string }>(join(data, "corpus.jsonl"))) {
    writeFileSync(join(files, d._id.replace(/[^A-Za-z0-9_-]/g, "_") + ".md"), `# ${d.title}\n\n${d.text}\n`);
  }
  const kb = KnowledgeBase.open(join(root, "kb"), { create: true });
  await kb.ingest([files]);

  type Tally = { first: number; answered: number; wrong: number; unAbstain: number; offAbstain: number; ms: number };
  const tally = (): Tally => ({ first: 0, answered: 0, wrong: 0, unAbstain: 0, offAbstain: 0, ms: 0 });
  const after = tally();
  const cold = tally();
  const before = tally();
  let retrievalMs = 0;
  const dump: string[] = [];
  const count = { answerable: 0, unanswerable: 0, offtopic: 0 };
  const loss = { right: 0, noGoldCandidate: 0, otherSentenceFirst: 0, otherSentenceFirstAbstained: 0, goldFirstAbstained: 0 };

  const score = (t: Tally, q: Question, a: GroundedAnswer): void => {
    if (q.set === "answerable") {
      if (!a.supported) return;
      t.answered++;
      const golds = (q.answers ?? []).map(normalize);
      const first = normalize(a.sentences[0]?.text ?? "");
      if (golds.some((g) => first.includes(g))) t.first++;
      if (!golds.some((g) => normalize(a.answer).includes(g))) t.wrong++;
    } else if (!a.supported) {
      if (q.set === "unanswerable") t.unAbstain++;
      else t.offAbstain++;
    }
  };

  for (const q of questions) {
    count[q.set]++;
    const r0 = performance.now();
    const { question, hits, idfOf } = await kb.answerSources(q.question, { access: { owner: true } });
    retrievalMs += performance.now() - r0;
    const run = (t: Tally, f: (q: string, h: SearchHit[], i: (t: string) => number) => GroundedAnswer): void => {
      const t0 = performance.now();
      const a = f(question, hits, idfOf);
      t.ms += performance.now() - t0;
      score(t, q, a);
    };
    // Cold: nothing cached, every chunk segmented and stemmed afresh, as the old answerer always does;
    // then the same question again with its chunks cached (a repeated or similar question).
    run(cold, (q, h, i) => {
      forgetChunks();
      return answerExtractively(q, h, i);
    });
    run(after, answerExtractively);
    run(before, answerBefore);
    if (q.set === "answerable") {
      const golds = (q.answers ?? []).map(normalize);
      const holds = (text: string): boolean => golds.some((g) => normalize(text).includes(g));
      const { ranked } = rankSentences(question, hits, idfOf);
      const top = ranked[0];
      const says = top !== undefined && top.support >= DEFAULT_EXTRACTIVE.minSupport;
      if (!ranked.some((c) => holds(c.text))) loss.noGoldCandidate++;
      else if (!holds(top!.text)) loss[says ? "otherSentenceFirst" : "otherSentenceFirstAbstained"]++;
      else loss[says ? "right" : "goldFirstAbstained"]++;
    }
    if (dumpFile) {
      const golds = (q.answers ?? []).map(normalize);
      const { ranked } = rankSentences(question, hits, idfOf);
      dump.push(
        JSON.stringify({
          id: q.id,
          set: q.set,
          title: q.title,
          question: q.question,
          answers: q.answers,
          candidates: ranked.map((c) => ({ text: c.text, f: c.features, gold: golds.some((g) => normalize(c.text).includes(g)) ? 1 : 0, rank: c.hit.rank })),
        }),
      );
    }
  }
  kb.close();
  if (dumpFile) writeFileSync(dumpFile, dump.join("\n") + "\n");

  const n = questions.length;
  const figures = (t: Tally) => ({
    firstSentenceGold: t.first / count.answerable,
    answeredShare: t.answered / count.answerable,
    noGoldAmongAnswered: t.answered ? t.wrong / t.answered : 0,
    unanswerableAbstain: t.unAbstain / count.unanswerable,
    offtopicAbstain: t.offAbstain / count.offtopic,
    msPerQuestion: t.ms / n,
  });
  const rows = { before: figures(before), "after, cold": figures(cold), "after, chunks cached": figures(after) };
  const machine = machineInfo();
  console.log(`answer quality: ${count.answerable} answerable + ${count.unanswerable} unanswerable SQuAD 2.0 questions, ${count.offtopic} off-topic; ${describeMachine(machine)}`);
  printTable(
    ["answerer", "first sentence gold", "answered", "no gold among answered", "unanswerable abstain", "off-topic abstain", "ms/question"],
    (["before", "after, cold", "after, chunks cached"] as const).map((k) => {
      const r = rows[k];
      return [k, fmt(r.firstSentenceGold, 3), fmt(r.answeredShare, 3), fmt(r.noGoldAmongAnswered, 3), fmt(r.unanswerableAbstain, 3), fmt(r.offtopicAbstain, 3), fmt(r.msPerQuestion, 2)];
    }),
  );
  console.log(`goals: first >= 0.85, no-gold <= 0.10, unanswerable >= 0.50, off-topic >= 0.95; retrieval ${fmt(retrievalMs / n, 2)} ms/question`);
  const share = (k: keyof typeof loss): string => fmt(loss[k] / count.answerable, 3);
  console.log(
    `answerable questions (after): gold first and answered ${share("right")}; no gold sentence among the candidates ${share("noGoldCandidate")}; ` +
      `another sentence first ${share("otherSentenceFirst")} (+ ${share("otherSentenceFirstAbstained")} of them abstained); gold first but abstained ${share("goldFirstAbstained")}`,
  );
  writeJson("answer-quality", { machine, counts: count, retrievalMsPerQuestion: retrievalMs / n, ...rows, answerableLoss: loss });
} finally {
  rmSync(root, { recursive: true, force: true });
}
