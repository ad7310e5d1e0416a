// Reader for datasets in the BEIR layout (https://github.com/beir-cellar/beir):
//
//   <dir>/corpus.jsonl        one JSON object a line: {"_id", "title", "text", ...}
//   <dir>/queries.jsonl       one JSON object a line: {"_id", "text", ...}
//   <dir>/qrels/<split>.tsv   "query-id<TAB>corpus-id<TAB>score", with a header line (tolerated when absent)
//
// Files are streamed line by line, so a corpus does not have to fit in one string. Only the queries
// that have relevance judgements in the chosen split are kept, as BEIR's own loader does. Every
// problem with the files is a one-line StrataError that names the file (and line) and the fix.

import { createReadStream, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { ProgressListener } from "../core/events.js";
import { oneLine, parseJsonLine } from "./jsonl.js";

export interface BeirDoc {
  id: string;
  title: string;
  text: string;
}

export interface BeirDataset {
  /** The folder's name, e.g. "scifact". */
  name: string;
  split: string;
  corpus: BeirDoc[];
  /** Query id -> query text, only queries with qrels in the split, in queries.jsonl order. */
  queries: Map<string, string>;
  /** Query id -> (document id -> grade), in the same order as `queries`. */
  qrels: Map<string, Map<string, number>>;
}

export interface ReadBeirOptions {
  signal?: AbortSignal;
  /** Reports { phase: "read", done: documents read so far, item: "corpus.jsonl" } every 10,000 documents and at the end. */
  onProgress?: ProgressListener;
}

// ids are strings in BEIR, but some converted datasets write numbers; both are read as strings.
const idSchema = z.union([z.string().min(1), z.number().transform((n) => String(n))]);
const corpusLineSchema = z.object({
  _id: idSchema,
  title: z.string().nullish().transform((t) => t ?? ""),
  text: z.string(),
});
const queryLineSchema = z.object({ _id: idSchema, text: z.string() });

const LAYOUT_HINT = "a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv (e.g. the unzipped scifact.zip from BEIR)";

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new StrataError("UNREADABLE", `cannot read ${path}: ${oneLine((e as Error).message)}`, "check the path and its permissions", { cause: e });
  }
}

async function requireFile(path: string, what: string): Promise<void> {
  const s = await statOrNull(path);
  if (s === null) throw new StrataError("NOT_FOUND", `BEIR ${what} not found: ${path}`, LAYOUT_HINT);
  if (!s.isFile()) throw new StrataError("USAGE", `BEIR ${what} is not a file: ${path}`, LAYOUT_HINT);
}

/** Calls `onLine(line, lineNumber)` for every non-blank line of a UTF-8 text file, streaming it. */
async function eachLine(path: string, onLine: (line: string, n: number) => void, signal?: AbortSignal): Promise<number> {
  const input = createReadStream(path, { encoding: "utf8" });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const raw of rl) {
      n++;
      if ((n & 1023) === 0) throwIfAborted(signal);
      const line = n === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === "") continue;
      onLine(line, n);
    }
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError("UNREADABLE", `cannot read ${path}: ${oneLine((e as Error).message)}`, "check the file and its permissions", { cause: e });
  } finally {
    rl.close();
    input.destroy();
  }
  throwIfAborted(signal);
  return n;
}

async function listSplits(qrelsDir: string): Promise<string[]> {
  try {
    return (await readdir(qrelsDir)).filter((f) => f.endsWith(".tsv")).map((f) => f.slice(0, -4)).sort();
  } catch {
    return [];
  }
}

async function readQrels(path: string, file: string, signal?: AbortSignal): Promise<Map<string, Map<string, number>>> {
  const qrels = new Map<string, Map<string, number>>();
  let first = true;
  await eachLine(
    path,
    (line, n) => {
      const cols = line.split("\t").map((c) => c.trim());
      const isFirst = first;
      first = false;
      // The header is the first line whose score column is not a number ("query-id corpus-id score").
      if (isFirst && cols.length === 3 && !isNumeric(cols[2] as string)) return;
      if (cols.length !== 3) {
        const trec = cols.length === 4 ? " (a 4-column row looks like TREC qrels \"qid 0 docid grade\"; BEIR wants \"query-id corpus-id score\")" : "";
        throw new StrataError(
          "PARSE_FAILED",
          `${file} line ${n}: expected 3 tab-separated columns (query-id, corpus-id, score), found ${cols.length}${trec}`,
          `fix or remove line ${n}; columns must be separated by a tab character`,
        );
      }
      const [qid, did, score] = cols as [string, string, string];
      if (qid === "" || did === "") {
        throw new StrataError("PARSE_FAILED", `${file} line ${n}: empty ${qid === "" ? "query-id" : "corpus-id"}`, `fix or remove line ${n}`);
      }
      if (!isNumeric(score)) {
        throw new StrataError("PARSE_FAILED", `${file} line ${n}: score "${score.slice(0, 40)}" is not a number`, `the third column is the relevance grade (0, 1, 2, ...); fix or remove line ${n}`);
      }
      let m = qrels.get(qid);
      if (!m) qrels.set(qid, (m = new Map()));
      m.set(did, Number(score));
    },
    signal,
  );
  return qrels;
}

function isNumeric(s: string): boolean {
  return s !== "" && Number.isFinite(Number(s));
}

/**
 * Reads a BEIR dataset folder. Throws StrataError NOT_FOUND (folder, file or split missing — the
 * hint lists the splits that exist), PARSE_FAILED (bad JSON line, bad TSV row, duplicate id, qrels
 * naming a query that queries.jsonl lacks; the message names the file and line), UNREADABLE or ABORTED.
 */
export async function readBeir(dir: string, split = "test", opts: ReadBeirOptions = {}): Promise<BeirDataset> {
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  if (!/^[A-Za-z0-9_.-]+$/.test(split) || split.startsWith(".")) {
    throw new StrataError("USAGE", `invalid split name "${split}"`, "a split is the name of a file in qrels/ without .tsv, such as test, dev or train");
  }
  const root = resolve(dir);
  const s = await statOrNull(root);
  if (s === null) throw new StrataError("NOT_FOUND", `BEIR dataset folder not found: ${root}`, LAYOUT_HINT);
  if (!s.isDirectory()) throw new StrataError("USAGE", `not a folder: ${root}`, `pass the dataset folder, not a file; ${LAYOUT_HINT}`);

  const corpusPath = join(root, "corpus.jsonl");
  const queriesPath = join(root, "queries.jsonl");
  const qrelsDir = join(root, "qrels");
  const qrelsPath = join(qrelsDir, `${split}.tsv`);
  await requireFile(corpusPath, "corpus file");
  await requireFile(queriesPath, "queries file");
  const qd = await statOrNull(qrelsDir);
  if (qd === null || !qd.isDirectory()) throw new StrataError("NOT_FOUND", `BEIR qrels folder not found: ${qrelsDir}`, LAYOUT_HINT);
  if ((await statOrNull(qrelsPath)) === null) {
    const splits = await listSplits(qrelsDir);
    const hint = splits.length > 0 ? `pick a split that exists: ${splits.join(", ")} (the .tsv files in ${qrelsDir})` : `${qrelsDir} holds no <split>.tsv files; ${LAYOUT_HINT}`;
    throw new StrataError("NOT_FOUND", `split "${split}" not found: ${qrelsPath}`, hint);
  }
  await requireFile(qrelsPath, "qrels file");

  // 1. qrels (small) decide which queries are kept.
  const qrelsFile = `qrels/${split}.tsv`;
  const allQrels = await readQrels(qrelsPath, qrelsFile, signal);

  // 2. queries, kept when judged in the split, in file order.
  const queries = new Map<string, string>();
  const seenQueries = new Set<string>();
  await eachLine(
    queriesPath,
    (line, n) => {
      const q = parseJsonLine(queryLineSchema, line, "queries.jsonl", n, `{"_id": "q1", "text": "..."}`);
      if (seenQueries.has(q._id)) {
        throw new StrataError("PARSE_FAILED", `queries.jsonl line ${n}: duplicate _id "${q._id}"`, "every query needs its own _id; remove the repeated line");
      }
      seenQueries.add(q._id);
      if (allQrels.has(q._id)) queries.set(q._id, q.text);
    },
    signal,
  );
  const missing = [...allQrels.keys()].filter((id) => !seenQueries.has(id));
  if (missing.length > 0) {
    throw new StrataError(
      "PARSE_FAILED",
      `${qrelsFile} judges ${missing.length} ${missing.length === 1 ? "query" : "queries"} missing from queries.jsonl (${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""})`,
      "use the queries.jsonl and qrels/ that came with the same dataset",
    );
  }
  const qrels = new Map<string, Map<string, number>>();
  for (const id of queries.keys()) qrels.set(id, allQrels.get(id) as Map<string, number>);

  // 3. corpus, streamed.
  const corpus: BeirDoc[] = [];
  const docLine = new Map<string, number>();
  await eachLine(
    corpusPath,
    (line, n) => {
      const d = parseJsonLine(corpusLineSchema, line, "corpus.jsonl", n, `{"_id": "d1", "title": "...", "text": "..."}`);
      const prev = docLine.get(d._id);
      if (prev !== undefined) {
        throw new StrataError("PARSE_FAILED", `corpus.jsonl line ${n}: duplicate _id "${d._id}" (first on line ${prev})`, "every document needs its own _id; remove the repeated line");
      }
      docLine.set(d._id, n);
      corpus.push({ id: d._id, title: d.title, text: d.text });
      if (onProgress && corpus.length % 10000 === 0) onProgress({ phase: "read", done: corpus.length, item: "corpus.jsonl" });
    },
    signal,
  );
  onProgress?.({ phase: "read", done: corpus.length, item: "corpus.jsonl" });

  return { name: basename(root), split, corpus, queries, qrels };
}
