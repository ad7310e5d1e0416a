// Uploaded files into a knowledge base. Nothing an upload names touches the disk: the bytes are
// parsed in memory by the same loaders `strata ingest` uses and stored as documents whose source is
// `upload://<user>/<file name>`. File names that try to be paths are refused, the rest cleaned.
// Each user uploads into their own namespace, so an upload can never replace (or re-permission) a
// document somebody else uploaded; re-uploading the same name as the same user updates it.
import { createHash } from "node:crypto";
import { StrataError, throwIfAborted, toStrataError } from "../core/errors.js";
import type { ProgressListener } from "../core/events.js";
import type { IngestFailure, IngestReport, KnowledgeBase } from "../knowledge/knowledge-base.js";
import { escapeName } from "../knowledge/loaders/file-names.js";
import type { ParseLimits } from "../knowledge/loaders/parse-limits.js";
import { sharedParsePool } from "../knowledge/loaders/parse-pool.js";
import type { PageSpan } from "../knowledge/store/readable-documents.js";
import type { Acl } from "../knowledge/types.js";
import { pageSpansOf } from "./pages.js";
import type { EmbeddingModel } from "../model/types.js";

export interface UploadedFile {
  /** The file name as the client sent it. */
  name: string;
  bytes: Buffer;
}

export interface UploadReport extends IngestReport {
  /** Chunks embedded after the upload, when the server has an embedding model. */
  embedded?: number;
}

const MAX_NAME_LENGTH = 200;

/**
 * A safe document name from an uploaded file name, or a USAGE error. Names with a path in them
 * (slashes, backslashes, "." or "..") are refused rather than trimmed, so nobody is surprised by
 * what was stored; control characters are refused; Unicode is normalised (NFC).
 */
export function sanitizeFileName(raw: string): string {
  const name = raw.normalize("NFC").trim();
  const refuse = (why: string): never => {
    throw new StrataError("USAGE", `file name "${escapeName(raw.slice(0, 100))}" is not allowed: ${why}`, "upload the file under a plain name such as report.pdf");
  };
  if (name === "") refuse("it is empty");
  if (/[/\\]/.test(name)) refuse("it contains a path separator");
  if (name === "." || name === "..") refuse("it names a folder");
  if (/[\p{Cc}\p{Cf}]/u.test(name)) refuse("it contains control characters");
  if (name.startsWith(".")) refuse("it is a hidden file");
  if (name.length > MAX_NAME_LENGTH) refuse(`it is longer than ${MAX_NAME_LENGTH} characters`);
  return name;
}

export function uploadSource(user: string, name: string): string {
  return `upload://${user}/${name}`;
}

/** SHA-256 in 4 MiB slices with a yield between them, so hashing a 50 MB upload never holds the event loop. */
async function sha256Yielding(bytes: Uint8Array): Promise<string> {
  const h = createHash("sha256");
  for (let at = 0; at < bytes.length; at += 4 << 20) {
    h.update(bytes.subarray(at, at + (4 << 20)));
    if (at + (4 << 20) < bytes.length) await new Promise<void>((r) => setImmediate(r));
  }
  return h.digest("hex");
}

function failure(source: string, e: unknown): IngestFailure {
  const err = toStrataError(e, "PARSE_FAILED", "check the file opens in its own application");
  return { source, code: err.code, message: err.message, hint: err.hint };
}

/** Stores uploaded files as documents (one transaction each), reporting progress per file. */
export async function ingestUploads(
  kb: KnowledgeBase,
  files: UploadedFile[],
  o: {
    user: string;
    acl: Acl;
    tags: string[];
    maxBytes: number;
    /** How far one document may expand while parsed; parsing runs in the worker pool, off the event loop. */
    limits?: Partial<ParseLimits>;
    embedder?: EmbeddingModel;
    /** Called for each stored document with the page spans of its text (empty when unpaged). */
    onStored?: (docId: string, version: number, pages: PageSpan[]) => void;
    onProgress?: ProgressListener;
    signal?: AbortSignal;
  },
): Promise<UploadReport> {
  const report: UploadReport = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [] };
  const acl: Acl = { users: [...new Set(o.acl.users)], groups: [...new Set(o.acl.groups)] };
  const tags = [...new Set(o.tags)];
  let done = 0;
  for (const file of files) {
    throwIfAborted(o.signal);
    let label = escapeName(file.name);
    try {
      const name = sanitizeFileName(file.name);
      const source = uploadSource(o.user, name);
      label = name;
      const hash = await sha256Yielding(file.bytes);
      const existing = kb.store.findBySource(source);
      if (existing && kb.store.isUnchanged(existing, hash, acl, tags)) report.unchanged++;
      else {
        const size = file.bytes.length;
        const document = await sharedParsePool().parse({ bytes: file.bytes, name, maxBytes: o.maxBytes, limits: o.limits, transfer: true }, o.signal);
        report[kb.writeExtracted({ source, document, hash, size }, { acl, tags })]++;
        const stored = kb.store.findBySource(source);
        if (stored) o.onStored?.(stored.docId, stored.version, pageSpansOf(document));
      }
    } catch (e) {
      if (e instanceof StrataError && e.code === "ABORTED") throw e;
      report.failed.push(failure(label, e));
    }
    o.onProgress?.({ phase: "ingest", done: ++done, total: files.length, item: label });
  }
  if (o.embedder && report.added + report.updated > 0) {
    try {
      report.embedded = (await kb.embed(o.embedder, { signal: o.signal })).embedded;
    } catch (e) {
      if (e instanceof StrataError && e.code === "ABORTED") throw e;
      report.failed.push(failure("(embedding)", e));
    }
  }
  return report;
}
