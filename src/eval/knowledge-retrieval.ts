// Retrieval evaluation of a Strata knowledge base on a BEIR folder: index the corpus into a
// throw-away store with the same ingest path users get, then rank documents for every query by
// their best chunk.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LongOperationOptions } from "../core/events.js";
import type { Bm25Params } from "../knowledge/bm25.js";
import { KnowledgeBase } from "../knowledge/knowledge-base.js";
import { OWNER } from "../knowledge/store/access.js";
import type { ExtractedDocument } from "../knowledge/types.js";
import type { BeirDataset, BeirDoc } from "./beir.js";
import { runRetrievalEval, type RetrievalEvalResult } from "./retrieval.js";

export interface KnowledgeRetrievalOptions extends LongOperationOptions {
  bm25?: Partial<Bm25Params>;
  /** Chunk size for the corpus; BEIR documents are short, so by default each is one chunk. */
  chunkChars?: number;
  /** How many documents to rank per query (Recall@100 needs at least 100). */
  depth?: number;
}

const SOURCE_PREFIX = "beir:";

/** A BEIR document as an extracted document: its title is the title field, its text the body. */
export function beirDocument(d: BeirDoc): ExtractedDocument {
  const text = d.text.trim() || d.title.trim() || d.id;
  return { text, title: d.title, mime: "text/plain", blocks: [{ kind: "paragraph", start: 0, end: text.length }] };
}

/** Indexes passages ({id, title, text}: a BEIR corpus, a QA dataset's contexts) into a new store in `dir`, one chunk each by default. */
export function indexPassages(passages: readonly BeirDoc[], dir: string, opts: KnowledgeRetrievalOptions = {}): KnowledgeBase {
  const kb = KnowledgeBase.open(dir, { create: true });
  const chunking = { maxChars: opts.chunkChars ?? 100_000, overlapChars: 0 };
  kb.writeMany(
    (function* () {
      for (const d of passages) yield { source: `${SOURCE_PREFIX}${d.id}`, document: beirDocument(d) };
    })(),
    { chunking, total: passages.length, signal: opts.signal, onProgress: opts.onProgress },
  );
  return kb;
}

/** The passage id of a source written by indexPassages. */
export function passageIdOf(source: string): string {
  return source.startsWith(SOURCE_PREFIX) ? source.slice(SOURCE_PREFIX.length) : source;
}

/** Indexes a BEIR corpus into a new store in `dir`. */
export function indexBeirCorpus(dataset: BeirDataset, dir: string, opts: KnowledgeRetrievalOptions = {}): KnowledgeBase {
  return indexPassages(dataset.corpus, dir, opts);
}

/** Ranked BEIR document ids for a query: chunks ranked by BM25F, each document at its best chunk. */
export async function rankBeirDocuments(kb: KnowledgeBase, query: string, depth: number, bm25?: Partial<Bm25Params>): Promise<string[]> {
  const hits = await kb.search(query, { k: depth * 3, access: OWNER, bm25 });
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const h of hits) {
    if (seen.has(h.docId)) continue;
    seen.add(h.docId);
    ids.push(h.source.slice(SOURCE_PREFIX.length));
    if (ids.length >= depth) break;
  }
  return ids;
}

/** Indexes the corpus in a temporary folder, runs every judged query, removes the folder. */
export async function evaluateKnowledgeRetrieval(dataset: BeirDataset, opts: KnowledgeRetrievalOptions = {}): Promise<RetrievalEvalResult> {
  const dir = mkdtempSync(join(tmpdir(), "strata-eval-"));
  let kb: KnowledgeBase | undefined;
  try {
    kb = indexBeirCorpus(dataset, join(dir, "kb"), opts);
    const open = kb;
    const depth = opts.depth ?? 100;
    return await runRetrievalEval(dataset, (q) => rankBeirDocuments(open, q, depth, opts.bm25), { signal: opts.signal, onProgress: opts.onProgress });
  } finally {
    kb?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
