// Entry point of the loaders: one file or byte buffer in, one ExtractedDocument out. Checks the
// cheap things first (extension, then size from stat, before any byte is read), then sniffs the
// bytes and dispatches by extension to the loader of that format.

import { extname } from "node:path";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { loadConfluence } from "./confluence.js";
import { loadCsv } from "./csv.js";
import { loadDocx } from "./docx.js";
import { decodeHtml, loadHtml } from "./html.js";
import { loadJson, loadJsonLines } from "./json.js";
import { loadMarkdown } from "./markdown.js";
import { loadPdf } from "./pdf.js";
import { checkMaxBytes, DEFAULT_MAX_BYTES, readSourceBytes, tooLarge } from "./read-source.js";
import { decodeText, emptyFile, noTextExtracted } from "./sniff.js";
import { loadText } from "./text.js";
import { documentTitle } from "./title.js";

export interface LoadOptions {
  /** Files larger than this are rejected before they are read; default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  signal?: AbortSignal;
}

// The size limit and the checked read live in read-source.ts, shared with the ingest pipeline.
export { DEFAULT_MAX_BYTES, readSourceBytes };

type TextLoader = (text: string) => ExtractedDocument;
/** A text format (with its decoder when it is not plain UTF-8 only) or a binary one. */
type Format = { text: TextLoader; decode?: (bytes: Uint8Array) => string } | { binary: "pdf" | "docx" };
const html: Format = { text: loadHtml, decode: decodeHtml };

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
  [".json", { text: loadJson }],
  [".jsonl", { text: loadJsonLines }],
  [".ndjson", { text: loadJsonLines }],
  [".xml", { text: loadConfluence }],
]);

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze([...FORMATS.keys()]);

export function isSupported(path: string): boolean {
  return FORMATS.has(extname(path).toLowerCase());
}

/** stat first (size limit before reading anything), then read, sniff and dispatch by extension. */
export async function loadFile(path: string, opts: LoadOptions = {}): Promise<ExtractedDocument> {
  throwIfAborted(opts.signal);
  const format = formatOf(path);
  const bytes = await readSourceBytes(path, opts.maxBytes ?? DEFAULT_MAX_BYTES, opts.signal);
  return titled(await dispatch(bytes, format, opts), path);
}

/** Same for bytes already in memory; `name` gives the extension. */
export async function loadBytes(bytes: Uint8Array, name: string, opts: LoadOptions = {}): Promise<ExtractedDocument> {
  throwIfAborted(opts.signal);
  const format = formatOf(name);
  const max = checkMaxBytes(opts.maxBytes ?? DEFAULT_MAX_BYTES);
  if (bytes.length > max) throw tooLarge(bytes.length, max);
  return titled(await dispatch(bytes, format, opts), name);
}

async function dispatch(bytes: Uint8Array, format: Format, opts: LoadOptions): Promise<ExtractedDocument> {
  if (bytes.length === 0) throw emptyFile();
  let doc: ExtractedDocument;
  if ("text" in format) doc = format.text((format.decode ?? decodeText)(bytes));
  else if (format.binary === "pdf") doc = await loadPdf(bytes, { signal: opts.signal });
  else doc = await loadDocx(bytes);
  throwIfAborted(opts.signal);
  if (doc.blocks.length === 0 || doc.text.trim() === "") throw noTextExtracted();
  return doc;
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
