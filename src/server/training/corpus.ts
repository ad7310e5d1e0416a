// The text a run trains on: the documents of a knowledge base that the caller may read — listed
// and read with the caller's principal inside the store's queries, the same rights search and ask
// use — joined into <run>/corpus.txt. Nothing the caller may not read can reach the file.
import { writeFileSync } from "node:fs";
import type { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import type { Principal } from "../../knowledge/types.js";

export const CORPUS_FILE = "corpus.txt";
/** Largest corpus written (bytes); documents past it are left out, in source order. */
export const MAX_CORPUS_BYTES = 64 * 1024 * 1024;

export interface CorpusReport {
  documents: number;
  bytes: number;
  /** Readable documents left out because the corpus reached MAX_CORPUS_BYTES. */
  leftOut: number;
}

export function writeCorpus(kb: KnowledgeBase, principal: Principal, path: string, maxBytes = MAX_CORPUS_BYTES): CorpusReport {
  const parts: string[] = [];
  let bytes = 0;
  let leftOut = 0;
  for (const d of kb.store.readable.list(principal)) {
    const text = kb.store.getDocument(d.docId, principal)?.text.trim();
    if (!text) continue;
    const size = Buffer.byteLength(text, "utf8") + (parts.length > 0 ? 2 : 0);
    if (bytes + size > maxBytes) {
      leftOut++;
      continue;
    }
    parts.push(text);
    bytes += size;
  }
  writeFileSync(path, parts.join("\n\n"), { encoding: "utf8", flag: "wx" });
  return { documents: parts.length, bytes, leftOut };
}
