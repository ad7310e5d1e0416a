// Readers for question-answering datasets, all into one shape (QaDataset):
//
//   SQuAD JSON      v1.1 / v2.0 ({version, data: [{title, paragraphs: [{context, qas: [...]}]}]});
//                   v2.0's is_impossible marks unanswerable questions; ExpMRC's files add
//                   `evidences` (human-marked supporting sentences) to each question
//   SQuAD folder    ../shared/data/squad: corpus.jsonl {_id, title, text}, questions.jsonl {id,
//                   question, answers[], passage_id, title}, unanswerable.jsonl (optional)
//   plain JSONL     one {id?, question, answers?, contexts?, reference?, answerable?} a line;
//                   answers [] (or answerable false) marks an unanswerable question, and the
//                   contexts of all lines together make the corpus
//
// Every problem is a one-line StrataError naming the file, the line (or question id) and the field.
// The dataset's hash covers every byte read, so a stored run knows which data it scored.

import { readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { sha256 } from "../core/hash.js";
import { numberedLines, oneLine, parseJsonLine } from "./jsonl.js";

export interface QaPassage {
  id: string;
  title: string;
  text: string;
}

export interface QaItem {
  id: string;
  question: string;
  /** Gold answers, any one counts; [] for an unanswerable question. */
  answers: string[];
  answerable: boolean;
  /** Passages that hold the answer (ids into QaDataset.passages). */
  goldPassages: string[];
  /** ExpMRC: human-marked evidence sentences. */
  evidences?: string[];
  /** A free-form reference answer (RAG datasets). */
  reference?: string;
}

export type QaFormat = "squad-json" | "squad-folder" | "jsonl";

export interface QaDataset {
  name: string;
  path: string;
  format: QaFormat;
  /** sha256 of every file read, in order. */
  hash: string;
  items: QaItem[];
  passages: QaPassage[];
}

export interface ReadQaOptions {
  /** Require gold answers on every item that is not marked unanswerable (eval qa); default true. */
  requireGold?: boolean;
}

/** A dataset file is read whole; larger files are refused rather than exhausting memory. */
const MAX_BYTES = 512 * 1024 * 1024;

function readText(path: string, hashes: string[]): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new StrataError("NOT_FOUND", `dataset file not found: ${path}`, "check the path after --data");
  }
  if (size > MAX_BYTES) throw new StrataError("FILE_TOO_LARGE", `${path} is ${Math.round(size / 1e6)} MB; datasets over ${MAX_BYTES / 1024 / 1024} MiB are not read`, "split the dataset into smaller files");
  const bytes = readFileSync(path);
  hashes.push(`${basename(path)}:${sha256(bytes)}`);
  return bytes.toString("utf8");
}

const goldHint = (where: string): string => `give the gold answers as "answers": ["..."] (an empty list marks an unanswerable question), or fix ${where}`;

// ---------- SQuAD JSON ----------

const squadAnswer = z.object({ text: z.string(), answer_start: z.number().optional() });
const squadQa = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  question: z.string().min(1),
  answers: z.array(squadAnswer).optional(),
  is_impossible: z.boolean().optional(),
  evidences: z.array(z.string()).optional(),
});
const squadFile = z.object({
  version: z.string().optional(),
  data: z.array(z.object({ title: z.string().default(""), paragraphs: z.array(z.object({ context: z.string(), qas: z.array(z.unknown()) })) })),
});

function readSquadJson(path: string, opts: ReadQaOptions): QaDataset {
  const hashes: string[] = [];
  const text = readText(path, hashes);
  const file = basename(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `${file}: not valid JSON (${oneLine((e as Error).message)})`, "a SQuAD file is one JSON object {version, data: [...]}; use .jsonl for one question a line");
  }
  const top = squadFile.safeParse(raw);
  if (!top.success) {
    const issue = top.error.issues[0];
    throw new StrataError("PARSE_FAILED", `${file}: field "${issue?.path.join(".") ?? ""}" is invalid (${oneLine(issue?.message ?? "unexpected shape")})`, "expected SQuAD's layout {version, data: [{title, paragraphs: [{context, qas}]}]}");
  }
  const items: QaItem[] = [];
  const passages: QaPassage[] = [];
  const seen = new Set<string>();
  top.data.data.forEach((article, a) => {
    article.paragraphs.forEach((p, i) => {
      const pid = `${article.title || `article${a}`}#${i}`;
      passages.push({ id: pid, title: article.title, text: p.context });
      p.qas.forEach((q, j) => {
        const at = `data[${a}].paragraphs[${i}].qas[${j}]`;
        const r = squadQa.safeParse(q);
        if (!r.success) {
          const issue = r.error.issues[0];
          throw new StrataError("PARSE_FAILED", `${file}: ${at} field "${issue?.path.join(".") ?? ""}" is invalid (${oneLine(issue?.message ?? "")})`, "each question needs id, question and answers [{text, answer_start}]");
        }
        const qa = r.data;
        if (seen.has(qa.id)) throw new StrataError("PARSE_FAILED", `${file}: question id "${qa.id}" appears twice (${at})`, "every question needs its own id");
        seen.add(qa.id);
        const answers = [...new Set((qa.answers ?? []).map((x) => x.text))];
        const answerable = qa.is_impossible !== true;
        if (answerable && answers.length === 0 && opts.requireGold !== false) {
          throw new StrataError("PARSE_FAILED", `${file}: question "${qa.id}" (${at}) has no gold answers`, goldHint(at) + ' or set "is_impossible": true');
        }
        items.push({ id: qa.id, question: qa.question, answers: answerable ? answers : [], answerable, goldPassages: [pid], ...(qa.evidences ? { evidences: qa.evidences } : {}) });
      });
    });
  });
  return { name: basename(path).replace(/\.json$/i, ""), path, format: "squad-json", hash: sha256(hashes.join("\n")), items, passages };
}

// ---------- the SQuAD folder layout ----------

const corpusLine = z.object({ _id: z.union([z.string().min(1), z.number().transform(String)]), title: z.string().nullish(), text: z.string() });
const folderQuestion = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]),
  question: z.string().min(1),
  answers: z.array(z.string()).optional(),
  passage_id: z.string().optional(),
});

function readSquadFolder(dir: string, opts: ReadQaOptions): QaDataset {
  const hashes: string[] = [];
  const passages: QaPassage[] = [];
  const ids = new Set<string>();
  for (const [line, n] of numberedLines(readText(join(dir, "corpus.jsonl"), hashes))) {
    const d = parseJsonLine(corpusLine, line, "corpus.jsonl", n, `{"_id": "p1", "title": "...", "text": "..."}`);
    if (ids.has(d._id)) throw new StrataError("PARSE_FAILED", `corpus.jsonl line ${n}: duplicate _id "${d._id}"`, "every passage needs its own _id");
    ids.add(d._id);
    passages.push({ id: d._id, title: d.title ?? "", text: d.text });
  }
  const items: QaItem[] = [];
  const seen = new Set<string>();
  const read = (file: string, answerable: boolean): void => {
    for (const [line, n] of numberedLines(readText(join(dir, file), hashes))) {
      const q = parseJsonLine(folderQuestion, line, file, n, `{"id": "q1", "question": "...", "answers": ["..."], "passage_id": "p1"}`);
      if (seen.has(q.id)) throw new StrataError("PARSE_FAILED", `${file} line ${n}: duplicate id "${q.id}"`, "every question needs its own id");
      seen.add(q.id);
      const answers = [...new Set(q.answers ?? [])];
      if (answerable && answers.length === 0 && opts.requireGold !== false) throw new StrataError("PARSE_FAILED", `${file} line ${n}: field "answers" is missing or empty (question "${q.id}")`, goldHint(`line ${n}`) + "; unanswerable questions belong in unanswerable.jsonl");
      if (q.passage_id !== undefined && !ids.has(q.passage_id)) throw new StrataError("PARSE_FAILED", `${file} line ${n}: field "passage_id" names "${q.passage_id}", which corpus.jsonl lacks`, "use the corpus.jsonl that came with the questions");
      items.push({ id: q.id, question: q.question, answers: answerable ? answers : [], answerable, goldPassages: q.passage_id ? [q.passage_id] : [] });
    }
  };
  read("questions.jsonl", true);
  if (exists(join(dir, "unanswerable.jsonl"))) read("unanswerable.jsonl", false);
  return { name: basename(dir), path: dir, format: "squad-folder", hash: sha256(hashes.join("\n")), items, passages };
}

// ---------- plain JSONL ----------

const jsonlLine = z.object({
  id: z.union([z.string().min(1), z.number().transform(String)]).optional(),
  question: z.string().min(1),
  answers: z.array(z.string()).optional(),
  contexts: z.array(z.string()).optional(),
  reference: z.string().optional(),
  answerable: z.boolean().optional(),
});

function readJsonl(path: string, opts: ReadQaOptions): QaDataset {
  const hashes: string[] = [];
  const file = basename(path);
  const passages: QaPassage[] = [];
  const byText = new Map<string, string>();
  const items: QaItem[] = [];
  const seen = new Set<string>();
  for (const [line, n] of numberedLines(readText(path, hashes))) {
    const q = parseJsonLine(jsonlLine, line, file, n, `{"question": "...", "answers": ["..."], "contexts": ["..."]}`);
    const id = q.id ?? `line${n}`;
    if (seen.has(id)) throw new StrataError("PARSE_FAILED", `${file} line ${n}: duplicate id "${id}"`, "every question needs its own id (or leave id out: the line number is used)");
    seen.add(id);
    const answerable = q.answerable ?? (q.answers === undefined || q.answers.length > 0);
    if (answerable && (q.answers === undefined || q.answers.length === 0) && q.reference === undefined && opts.requireGold !== false) {
      throw new StrataError("PARSE_FAILED", `${file} line ${n}: field "answers" is missing (no gold answer for "${id}")`, goldHint(`line ${n}`) + ', or give a "reference" answer');
    }
    const gold: string[] = [];
    for (const text of q.contexts ?? []) {
      let pid = byText.get(text);
      if (pid === undefined) {
        pid = `ctx${passages.length + 1}`;
        byText.set(text, pid);
        passages.push({ id: pid, title: "", text });
      }
      gold.push(pid);
    }
    const answers = answerable ? [...new Set(q.answers ?? (q.reference !== undefined ? [q.reference] : []))] : [];
    items.push({ id, question: q.question, answers, answerable, goldPassages: gold, ...(q.reference !== undefined ? { reference: q.reference } : {}) });
  }
  if (items.length === 0) throw new StrataError("EMPTY_FILE", `${file} holds no questions`, `write one JSON object a line: {"question": "...", "answers": ["..."]}`);
  return { name: file.replace(/\.jsonl$/i, ""), path, format: "jsonl", hash: sha256(hashes.join("\n")), items, passages };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a QA dataset from a SQuAD JSON file, a SQuAD-layout folder or a JSONL file. */
export function readQaDataset(path: string, opts: ReadQaOptions = {}): QaDataset {
  const p = resolve(path);
  let st;
  try {
    st = statSync(p);
  } catch {
    throw new StrataError("NOT_FOUND", `dataset not found: ${path}`, "pass a SQuAD .json file, a .jsonl file, or a folder with corpus.jsonl and questions.jsonl");
  }
  if (st.isDirectory()) {
    if (!exists(join(p, "questions.jsonl")) || !exists(join(p, "corpus.jsonl"))) {
      throw new StrataError("NOT_FOUND", `${path} has no questions.jsonl and corpus.jsonl`, "a QA folder holds corpus.jsonl {_id, title, text} and questions.jsonl {id, question, answers, passage_id} (see ../shared/data/squad/README.md)");
    }
    return readSquadFolder(p, opts);
  }
  if (/\.jsonl$/i.test(p)) return readJsonl(p, opts);
  if (/\.json$/i.test(p)) return readSquadJson(p, opts);
  throw new StrataError("USAGE", `cannot tell the format of ${path}`, "name a SQuAD file *.json, a one-question-a-line file *.jsonl, or pass a folder");
}
