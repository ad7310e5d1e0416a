// PDF: the text layer of each page through pdf.js (bundled by unpdf, which runs on Node 20 without a
// worker). Positioned text items are joined into lines, lines into paragraphs by simple layout cues
// (vertical gaps, font-size changes, sentence end + indent or short line, bullets); lines in a
// clearly larger font than the body become headings. Every block carries its 1-based page.

import { getResolvedPDFJS } from "unpdf";
import { StrataError, throwIfAborted } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble, collapseWhitespace, type BlockDraft } from "./blocks.js";
import { hasPdfHeader } from "./sniff.js";
import { overLimit } from "./parse-limits.js";

export const PDF_MIME = "application/pdf";
/** A damaged or hostile PDF must not stall an ingest run. */
export const PDF_TIMEOUT_MS = 30_000;

interface RawItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}
interface Line {
  text: string;
  x: number;
  xEnd: number;
  y: number;
  size: number;
}
interface Para {
  lines: Line[];
  page: number;
}

const BULLET = /^(?:[•◦▪▫●○■□‣∙·*–—-]|\(?\d{1,2}[.)]|\([a-z]\))\s/;
// Some PDFs map glyphs (footnote rules, bullets) to control characters; they are not text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const SENTENCE_END = /[.!?:;]["'”’)\]]?$/;

export async function loadPdf(bytes: Uint8Array, opts: { signal?: AbortSignal; timeoutMs?: number; maxPages?: number } = {}): Promise<ExtractedDocument> {
  if (!hasPdfHeader(bytes)) throw corrupt("no %PDF- header");
  throwIfAborted(opts.signal);
  const pdfjs = await loadPdfjs();
  // pdf.js takes ownership of the buffer it is given, so give it a copy; verbosity 0 keeps its
  // console warnings out of our stdout (the CLI's --json output).
  const task = pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false, disableFontFace: true, useSystemFonts: false });
  const timeoutMs = opts.timeoutMs ?? PDF_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StrataError("PARSE_FAILED", `PDF parsing took longer than ${timeoutMs / 1000} s`, "the file may be damaged; open and re-save it, or leave it out")), timeoutMs);
    onAbort = () => reject(new StrataError("ABORTED", "the operation was cancelled", "run it again to finish; finished work is kept"));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([extract(task, opts.signal, opts.maxPages), guard]);
  } catch (e) {
    if (e instanceof StrataError) throw e;
    const err = e as { name?: string; message?: string };
    if (err.name === "PasswordException") {
      throw new StrataError("PARSE_FAILED", "PDF is password-protected", "remove the password (e.g. `qpdf --decrypt in.pdf out.pdf`) and ingest the result", { cause: e });
    }
    throw corrupt(err.message ?? String(e), e);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
    void task.destroy().catch(() => undefined);
  }
}

type PdfJs = Awaited<ReturnType<typeof getResolvedPDFJS>>;
type LoadingTask = ReturnType<PdfJs["getDocument"]>;

let pdfjsModule: Promise<PdfJs> | undefined;

/**
 * pdf.js prints a "use the legacy build" warning with console.log when its module loads in Node,
 * before any verbosity option applies; on stdout it would corrupt `--json` output. unpdf's bundle
 * is the serverless build made for this, so that one line is dropped.
 */
function loadPdfjs(): Promise<PdfJs> {
  pdfjsModule ??= (async () => {
    const log = console.log;
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].includes("Please use the `legacy` build")) return;
      log(...args);
    };
    try {
      return await getResolvedPDFJS();
    } finally {
      console.log = log;
    }
  })();
  return pdfjsModule;
}

async function extract(task: LoadingTask, signal: AbortSignal | undefined, maxPages = Infinity): Promise<ExtractedDocument> {
  const doc = await task.promise;
  if (doc.numPages > maxPages) throw overLimit("maxPdfPages", doc.numPages, maxPages);
  const paras: Para[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    // pdf.js (without a worker) runs on this thread in long promise chains; yielding a macrotask
    // per page lets the time limit and the abort signal fire between pages.
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    const page = await doc.getPage(p);
    const content = await page.getTextContent();
    const items = (content.items as unknown[]).filter((it): it is RawItem => typeof it === "object" && it !== null && "str" in it);
    for (const lines of paragraphsOf(linesOf(items))) paras.push({ lines, page: p });
    page.cleanup();
  }
  if (!paras.some((p) => p.lines.some((l) => /\S/.test(l.text)))) {
    throw new StrataError("PARSE_FAILED", "PDF has no text layer (scanned?)", "run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) and ingest the OCR'd PDF");
  }
  const title = await metadataTitle(doc);
  return assemble(toDrafts(paras), PDF_MIME, title);
}

/** Groups text items into lines: a new line at an end-of-line mark or a baseline jump. */
function linesOf(items: RawItem[]): Line[] {
  const lines: Line[] = [];
  let cur: Line | undefined;
  for (const it of items) {
    const [a = 0, b = 0, c = 0, d = 0, x = 0, y = 0] = it.transform;
    const size = Math.hypot(c, d) || Math.hypot(a, b) || it.height || 1;
    if (it.str !== "") {
      // Superscripts and subscripts shift by less than half a line, so they stay on their line.
      if (cur && Math.abs(y - cur.y) > 0.5 * Math.max(size, cur.size)) {
        lines.push(cur);
        cur = undefined;
      }
      if (!cur) {
        cur = { text: it.str, x, xEnd: x + it.width, y, size: it.str.trim() ? size : 0 };
      } else {
        const gap = x - cur.xEnd;
        if (gap > 0.15 * size && !/\s$/.test(cur.text) && !/^\s/.test(it.str)) cur.text += " ";
        cur.text += it.str;
        cur.xEnd = Math.max(cur.xEnd, x + it.width);
        if (it.str.trim()) cur.size = Math.max(cur.size, size);
      }
    }
    if (it.hasEOL && cur) {
      lines.push(cur);
      cur = undefined;
    }
  }
  if (cur) lines.push(cur);
  return lines
    .map((l) => ({ ...l, text: collapseWhitespace(l.text.replace(CONTROL, " ")) }))
    .filter((l) => l.text !== "");
}

/** Splits a page's lines into paragraphs. */
function paragraphsOf(lines: Line[]): Line[][] {
  const spacing = medianSpacing(lines);
  const paras: Line[][] = [];
  let cur: Line[] = [];
  for (const line of lines) {
    const prev = cur[cur.length - 1];
    if (prev && startsParagraph(prev, line, spacing)) {
      paras.push(cur);
      cur = [];
    }
    cur.push(line);
  }
  if (cur.length) paras.push(cur);
  return paras;
}

function startsParagraph(prev: Line, line: Line, spacing: number): boolean {
  const size = Math.max(prev.size, line.size, 1);
  const dy = prev.y - line.y; // PDF y grows upwards: the next line is below, so dy > 0
  if (dy < -0.5 * size) return true; // moved up: next column or a float
  if (dy > 1.5 * Math.max(spacing, size)) return true; // a blank-line-sized gap
  if (Math.abs(prev.size - line.size) > 0.15 * size) return true; // a heading or a footnote
  if (BULLET.test(line.text)) return true;
  if (SENTENCE_END.test(prev.text)) {
    if (line.x - prev.x > 0.8 * size) return true; // first-line indent
    if (line.xEnd - prev.xEnd > 3 * size) return true; // the previous line stopped short
  }
  return false;
}

/** Typical baseline distance between consecutive lines of a page (its body leading). */
function medianSpacing(lines: Line[]): number {
  const dys: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const prev = lines[i - 1] as Line;
    const cur = lines[i] as Line;
    const dy = prev.y - cur.y;
    if (dy > 0 && dy < 3 * Math.max(prev.size, cur.size)) dys.push(dy);
  }
  if (dys.length === 0) return 0;
  dys.sort((a, b) => a - b);
  return dys[Math.floor(dys.length / 2)] as number;
}

/** Paragraph text (dehyphenated) and heading detection by font size relative to the body text. */
function toDrafts(paras: Para[]): BlockDraft[] {
  const body = bodySize(paras);
  const headingSizes = new Set<number>();
  const isHeading = paras.map((p) => {
    const size = Math.max(...p.lines.map((l) => l.size));
    const text = p.lines.map((l) => l.text).join(" ");
    const heading = p.lines.length <= 3 && text.length <= 150 && size >= 1.15 * body &&
      /\p{L}{2}/u.test(text) && !/[.,;]$/.test(text) && !BULLET.test(text);
    if (heading) headingSizes.add(round(size));
    return heading;
  });
  // Larger fonts are higher levels.
  const levels = [...headingSizes].sort((a, b) => b - a);
  return paras.map((p, i) => {
    const text = joinLines(p.lines);
    if (!isHeading[i]) return { kind: "paragraph", text, page: p.page };
    const size = round(Math.max(...p.lines.map((l) => l.size)));
    return { kind: "heading", level: Math.min(6, levels.indexOf(size) + 1), text, page: p.page };
  });
}

/** The font size carrying the most characters. */
function bodySize(paras: Para[]): number {
  const chars = new Map<number, number>();
  for (const p of paras) for (const l of p.lines) chars.set(round(l.size), (chars.get(round(l.size)) ?? 0) + l.text.length);
  let best = 0;
  let most = -1;
  for (const [size, n] of chars) if (n > most) [best, most] = [size, n];
  return best;
}

function round(size: number): number {
  return Math.round(size * 2) / 2;
}

/** Joins lines with spaces, mending words hyphenated across a line end ("exam-" + "ple"). */
function joinLines(lines: Line[]): string {
  let out = "";
  for (const l of lines) {
    if (out === "") out = l.text;
    else if (/\p{Ll}[-\u00ad]$/u.test(out) && /^\p{Ll}/u.test(l.text)) out = out.slice(0, -1) + l.text;
    else out += " " + l.text;
  }
  return out;
}

async function metadataTitle(doc: { getMetadata(): Promise<{ info: unknown }> }): Promise<string | undefined> {
  try {
    const info = (await doc.getMetadata()).info as { Title?: unknown } | undefined;
    const t = typeof info?.Title === "string" ? info.Title.trim() : "";
    // Converters often leave a file name or a placeholder as the title; that names nothing.
    if (t === "" || /\.(docx?|pdf|tex|indd|pptx?)$/i.test(t) || /^untitled/i.test(t)) return undefined;
    return t;
  } catch {
    return undefined;
  }
}

function corrupt(why: string, cause?: unknown): StrataError {
  return new StrataError("PARSE_FAILED", `PDF could not be parsed: ${why.split("\n")[0]?.slice(0, 200)}`, "the file may be damaged or not a PDF: open and re-save (print to PDF) it, or leave it out", { cause });
}
