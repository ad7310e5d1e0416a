// What one document may expand to while it is parsed: the one place where these limits, their
// defaults and the flags that raise them are defined (docs/security.md lists them). A file over a
// limit is refused with PARSE_LIMIT naming the limit and the flag, before anything of it is stored.
import { StrataError } from "../../core/errors.js";

export interface ParseLimits {
  /** Decompressed bytes of any one archive member (DOCX part, gzip payload), checked from the header and while inflating. */
  maxInflatedBytes: number;
  /** Decompressed bytes of all the members of one archive together. */
  maxArchiveBytes: number;
  /** Characters of text extracted from one document. */
  maxChars: number;
  /** Chunks one document may be cut into. */
  maxChunks: number;
  /** Nesting depth of HTML/XML elements or JSON arrays and objects. */
  maxDepth: number;
  /** Pages of one PDF. */
  maxPdfPages: number;
  /** Wall-clock time to parse and chunk one file, ms; past it the worker parsing it is terminated. */
  parseTimeoutMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxInflatedBytes: 64 * MiB,
  maxArchiveBytes: 128 * MiB,
  maxChars: 20_000_000,
  maxChunks: 50_000,
  maxDepth: 512,
  maxPdfPages: 5_000,
  parseTimeoutMs: 60_000,
});

/** The CLI flag (and server option) that raises each limit, named in every refusal. */
export const LIMIT_FLAGS: Readonly<Record<keyof ParseLimits, string>> = Object.freeze({
  maxInflatedBytes: "--max-inflated-size",
  maxArchiveBytes: "--max-inflated-size",
  maxChars: "--max-chars",
  maxChunks: "--max-chunks",
  maxDepth: "--max-depth",
  maxPdfPages: "--max-pdf-pages",
  parseTimeoutMs: "--parse-timeout",
});

/** Defaults filled in and every value checked to be a positive number. */
export function resolveParseLimits(partial: Partial<ParseLimits> = {}): ParseLimits {
  const out = { ...DEFAULT_PARSE_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out) as [keyof ParseLimits, number][]) {
    if (!(typeof v === "number" && v > 0)) throw new StrataError("USAGE", `the parse limit ${k} must be a positive number, got ${String(v)}`, `e.g. ${LIMIT_FLAGS[k]} ${DEFAULT_PARSE_LIMITS[k]}`);
  }
  out.maxArchiveBytes = Math.max(out.maxArchiveBytes, out.maxInflatedBytes);
  return out;
}

function amount(k: keyof ParseLimits, n: number): string {
  if (k === "maxInflatedBytes" || k === "maxArchiveBytes") return `${(n / MiB).toFixed(1)} MiB`;
  if (k === "parseTimeoutMs") return `${(n / 1000).toFixed(0)} s`;
  if (k === "maxChars") return `${n.toLocaleString("en")} characters`;
  return n.toLocaleString("en");
}

const WHAT: Record<keyof ParseLimits, string> = {
  maxInflatedBytes: "decompressed size of one archive member",
  maxArchiveBytes: "decompressed size of the archive",
  maxChars: "extracted text",
  maxChunks: "the number of chunks",
  maxDepth: "nesting depth",
  maxPdfPages: "the PDF's page count",
  parseTimeoutMs: "parse time",
};

/** "over the limit" error; `actual` may be a lower bound ("at least") when counting stopped early. */
export function overLimit(k: keyof ParseLimits, actual: number, limit: number, atLeast = false, detail = ""): StrataError {
  const what = `${WHAT[k]}${detail ? ` (${detail})` : ""}`;
  return new StrataError(
    "PARSE_LIMIT",
    atLeast ? `${what} exceeds the limit of ${amount(k, limit)}` : `${what} is ${amount(k, actual)}, over the limit of ${amount(k, limit)}`,
    `if the file is trusted, raise the limit (CLI: ${LIMIT_FLAGS[k]}; library: limits.${k}); otherwise leave the file out`,
  );
}

export function checkChars(text: string, limits: ParseLimits): void {
  if (text.length > limits.maxChars) throw overLimit("maxChars", text.length, limits.maxChars);
}

/**
 * Element nesting of HTML or XML, counted by a linear scan of the tags (no parser, no recursion),
 * so 100,000 nested divs are refused in milliseconds instead of overflowing a recursive walk.
 * Void elements and self-closing tags do not nest; an end tag pops back to its start tag when it
 * is open, so unclosed <p> or <li> in sloppy HTML do not pile up.
 */
export function checkMarkupDepth(text: string, max: number): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>|<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    if (m[2] === undefined) continue; // comment or CDATA
    const name = m[2].toLowerCase();
    if (m[1]) {
      const at = stack.lastIndexOf(name);
      if (at >= 0) stack.length = at;
    } else if (!m[3] && !VOID.has(name)) {
      if (OPTIONAL_END.has(name) && stack[stack.length - 1] === name) continue; // <p><p>: a sibling, not a child
      stack.push(name);
      if (stack.length > max) throw overLimit("maxDepth", stack.length, max, true, "elements");
      if (RAW_TEXT.has(name)) {
        const end = text.toLowerCase().indexOf(`</${name}`, tag.lastIndex);
        tag.lastIndex = end < 0 ? text.length : end;
      }
    }
  }
}

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param", "keygen"]);
const OPTIONAL_END = new Set(["p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot"]);
const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

/** Nesting of JSON arrays and objects, brackets inside strings ignored; a linear scan. */
export function checkJsonDepth(text: string, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) throw overLimit("maxDepth", depth, max, true, "JSON arrays and objects");
    } else if (c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
}
