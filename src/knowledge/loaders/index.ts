// Entry point of the loaders: one file or byte buffer in, one ExtractedDocument out. Checks the
// cheap things first (extension, then size from stat, before any byte is read), then sniffs the
// bytes and dispatches by extension to the loader of that format.

import { extname } from "node:path";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { loadConfluence } from "./confluence.js";
import { loadCsv } from "./csv.js";
import { loadDocx } from "./docx.js";
import { gunzipLimited, innerName } from "./gzip.js";
import { decodeHtml, loadHtml } from "./html.js";
import { loadJson, loadJsonLines } from "./json.js";
import { loadMarkdown } from "./markdown.js";
import { checkChars, checkJsonDepth, checkMarkupDepth, resolveParseLimits, type ParseLimits } from "./parse-limits.js";
import { loadPdf } from "./pdf.js";
import { checkMaxBytes, DEFAULT_MAX_BYTES, readSourceBytes, tooLarge } from "./read-source.js";
import { decodeText, emptyFile, noTextExtracted } from "./sniff.js";
import { loadText } from "./text.js";
import { documentTitle } from "./title.js";

export interface LoadOptions {
  /** Files larger than this are rejected before they are read; default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  /** How far a document may expand while parsed (parse-limits.ts has the defaults). */
  limits?: Partial<ParseLimits>;
  signal?: AbortSignal;
}

// The size limit and the checked read live in read-source.ts, shared with the ingest pipeline.
export { DEFAULT_MAX_BYTES, readSourceBytes };

type TextLoader = (text: string) => ExtractedDocument;
/** A text format (with its decoder when it is not plain UTF-8 only) or a binary one. */
type TextFormat = { text: TextLoader; decode?: (bytes: Uint8Array) => string; nesting?: "markup" | "json" };
type Format = TextFormat | { binary: "pdf" | "docx" };
const html: Format = { text: loadHtml, decode: decodeHtml, nesting: "markup" };

const FORMATS = new Map<string, Format>([
  [".md", { text: loadMarkdown }],
  [".markdown", { text: loadMarkdown }],
  [".txt", { text: loadText }],
  [".text", { text: loadText }],
  [".html", html],
  [".htm", html],
  [".xhtml", html],
  [".pdf", { binary: "pdf" }],
  [".docx", { binary: "docx" }],
  [".csv", { text: loadCsv }],
  [".json", { text: loadJson, nesting: "json" }],
  [".jsonl", { text: loadJsonLines, nesting: "json" }],
  [".ndjson", { text: loadJsonLines, nesting: "json" }],
  [".xml", { text: loadConfluence, nesting: "markup" }],
]);

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze([...FORMATS.keys()]);

export function isSupported(path: string): boolean {
  return FORMATS.has(extname(innerName(path)).toLowerCase());
}

/** stat first (size limit before reading anything), then read, sniff and dispatch by extension. */
export async function loadFile(path: string, opts: LoadOptions = {}): Promise<ExtractedDocument> {
  throwIfAborted(opts.signal);
  formatOf(innerName(path));
  const bytes = await readSourceBytes(path, opts.maxBytes ?? DEFAULT_MAX_BYTES, opts.signal);
  return loadBytes(bytes, path, opts);
}

/** Same for bytes already in memory; `name` gives the extension. */
export async function loadBytes(bytes: Uint8Array, name: string, opts: LoadOptions = {}): Promise<ExtractedDocument> {
  throwIfAborted(opts.signal);
  const limits = resolveParseLimits(opts.limits);
  const format = formatOf(innerName(name));
  const max = checkMaxBytes(opts.maxBytes ?? DEFAULT_MAX_BYTES);
  if (bytes.length > max) throw tooLarge(bytes.length, max);
  // name.md.gz: the payload, inflated under the same limits, is loaded as name.md.
  if (innerName(name) !== name) return loadBytes(gunzipLimited(bytes, limits), innerName(name), { ...opts, maxBytes: Infinity });
  return titled(await dispatch(bytes, format, opts.signal, limits), name);
}

async function dispatch(bytes: Uint8Array, format: Format, signal: AbortSignal | undefined, limits: ParseLimits): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw emptyFile();
  let doc: ExtractedDocument;
  if ("text" in format) doc = format.text(checkedText((format.decode ?? decodeText)(bytes), format, limits));
  else if (format.binary === "pdf") doc = await loadPdf(bytes, { signal, maxPages: limits.maxPdfPages, timeoutMs: limits.parseTimeoutMs });
  else doc = await loadDocx(bytes, limits);
  checkChars(doc.text, limits);
  throwIfAborted(signal);
  if (doc.blocks.length === 0 || doc.text.trim() === "") throw noTextExtracted();
  return doc;
}

/** Nesting is checked by a linear scan before a (recursive) parser sees the text; plain text by its length. */
function checkedText(text: string, format: TextFormat, limits: ParseLimits): string {
  if (format.nesting === "markup") checkMarkupDepth(text, limits.maxDepth);
  else if (format.nesting === "json") checkJsonDepth(text, limits.maxDepth);
  else checkChars(text, limits);
  return text;
}

/** Every loaded file gets a title: the format's own, else its first heading or line (title.ts). */
function titled(doc: ExtractedDocument, name: string): ExtractedDocument {
  return { ...doc, title: documentTitle(doc, name) };
}

function formatOf(name: string): Format {
  const ext = extname(name).toLowerCase();
  const format = FORMATS.get(ext);
  if (!format) {
    const what = ext ? `"${ext}" files are not supported` : "files without an extension are not supported";
    throw new StrataError("UNSUPPORTED_TYPE", what, `supported: ${SUPPORTED_EXTENSIONS.join(" ")}; convert the file to one of them`);
  }
  return format;
}
