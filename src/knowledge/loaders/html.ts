// HTML: main content only. Readability (on a linkedom DOM) finds the article; for small pages where
// it finds too little, a plain fallback drops page chrome and takes <main>/<article>/<body>. Then
// one DOM walk turns the content into heading and paragraph blocks; DOCX reuses that walk.

import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble, collapseWhitespace, type BlockDraft } from "./blocks.js";
import { decodeText, stripBom } from "./sniff.js";

export const HTML_MIME = "text/html";

/** The few DOM members the walk uses; linkedom's nodes have them (no DOM lib in this project). */
interface DomNode {
  nodeType: number;
  localName?: string;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  parentElement?: DomElement | null;
}
interface DomElement extends DomNode {
  localName: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  closest(selector: string): DomElement | null;
  remove(): void;
}
interface DomDocument {
  title?: string;
  body: DomElement | null;
  documentElement: DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Never content. */
const SKIP = new Set([
  "script", "style", "noscript", "template", "head", "title", "meta", "link", "svg", "canvas", "iframe",
  "object", "embed", "button", "select", "input", "textarea", "audio", "video", "map", "math", "img", "picture",
]);
/** Elements whose boundaries end the current paragraph. */
const BLOCK = new Set([
  "html", "body", "main", "article", "section", "div", "header", "footer", "nav", "aside", "p", "ul", "ol",
  "li", "dl", "dt", "dd", "blockquote", "figure", "figcaption", "table", "thead", "tbody", "tfoot",
  "caption", "form", "fieldset", "legend", "details", "summary", "address", "hr", "center", "hgroup",
  "dialog", "menu",
]);
/** Page chrome removed by the fallback extractor. */
const CHROME = "script, style, noscript, template, nav, header, footer, aside, form, [role=navigation], [hidden], [aria-hidden=true]";

/** Readability's result is kept when it is this long, or at least this share of what the fallback finds. */
const MIN_ARTICLE_CHARS = 500;
const MIN_ARTICLE_SHARE = 0.5;

/**
 * Text of an HTML file: UTF-8 as for every text format, but when that fails and the page declares
 * another charset (old pages often say windows-1252), decode with the declared one.
 */
export function decodeHtml(bytes: Uint8Array): string {
  try {
    return decodeText(bytes);
  } catch (e) {
    if (!(e instanceof StrataError) || e.code !== "INVALID_UTF8") throw e;
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString("latin1");
    const label = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
    if (!label || label === "utf-8" || label === "utf8") throw e;
    let decoder: InstanceType<typeof TextDecoder>;
    try {
      decoder = new TextDecoder(label);
    } catch {
      throw e; // a charset this runtime does not know
    }
    let text = decoder.decode(bytes);
    // Node 20's fast path decodes windows-1252 (and its aliases latin1, ascii) as ISO-8859-1,
    // leaving C1 controls where the page has “smart quotes”, dashes and the euro sign.
    if (decoder.encoding === "windows-1252") text = text.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252[c.charCodeAt(0) - 0x80] || c);
    return stripBom(text).replace(/\r\n?/g, "\n");
  }
}

/** windows-1252 bytes 0x80–0x9F (empty: unassigned). */
const WINDOWS_1252 = [..."€\u0000‚ƒ„…†‡ˆ‰Š‹Œ\u0000Ž\u0000\u0000‘’“”•–—˜™š›œ\u0000žŸ"].map((c) => (c === "\u0000" ? "" : c));

export function loadHtml(html: string): ExtractedDocument {
  const page = parse(html);
  const title = pageTitle(page);
  const h1 = pageH1(page);

  const fallback = fallbackContent(parse(html));
  const fallbackDrafts = fallback ? walk(fallback) : [];
  let drafts = fallbackDrafts;
  const article = readArticle(page);
  if (article) {
    const articleDrafts = htmlToDrafts(article);
    const have = textLength(articleDrafts);
    if (have >= Math.min(MIN_ARTICLE_CHARS, MIN_ARTICLE_SHARE * textLength(fallbackDrafts))) drafts = articleDrafts;
  }
  // Readability removes the heading that repeats the title; keep the page's own h1 as the outline root.
  if (h1 && !drafts.some((d) => d.kind === "heading" && sameText(d.text, h1))) {
    drafts = [{ kind: "heading", level: 1, text: h1 }, ...drafts];
  }
  return assemble(drafts, HTML_MIME, title ?? h1);
}

/** Blocks of an HTML fragment (Readability's article, DOCX converted by mammoth), page chrome removed. */
export function htmlToDrafts(html: string): BlockDraft[] {
  const doc = parse(`<html><head></head><body>${html}</body></html>`);
  removeChrome(doc); // Readability keeps a <nav> inside the article it picks
  return doc.body ? walk(doc.body) : [];
}

function parse(html: string): DomDocument {
  // linkedom builds a usable document only under an <html> element; fragments (saved articles,
  // exported snippets) get the missing wrapper.
  if (!/<html[\s>]/i.test(html)) html = /<body[\s>]/i.test(html) ? `<html>${html}</html>` : `<html><head></head><body>${html}</body></html>`;
  try {
    return parseHTML(html).document as unknown as DomDocument;
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `HTML could not be parsed: ${(e as Error).message}`, "check that the file is HTML", { cause: e });
  }
}

function readArticle(doc: DomDocument): string | undefined {
  try {
    // Readability mutates the document; callers read everything they need from it first.
    const result = new Readability(doc as never).parse();
    return result?.content ?? undefined;
  } catch {
    return undefined; // Readability gives up on odd pages; the fallback still works.
  }
}

function fallbackContent(doc: DomDocument): DomElement | null {
  removeChrome(doc);
  for (const selector of ["main", "[role=main]", "article", "#main-content"]) {
    const el = doc.querySelector(selector);
    if (el) return el;
  }
  return doc.body ?? doc.documentElement;
}

function removeChrome(doc: DomDocument): void {
  for (const el of Array.from(doc.querySelectorAll(CHROME))) {
    // An article's own <header> holds its title; only page-level headers are chrome.
    if (tagOf(el) === "header" && el.parentElement?.closest("article, main")) continue;
    el.remove();
  }
}

function pageTitle(doc: DomDocument): string | undefined {
  const t = doc.querySelector("title")?.textContent ?? doc.querySelector('meta[property="og:title"]')?.getAttribute("content");
  return nonEmpty(t);
}

/** The first h1 of the content: inside main/article when there is one, never in nav/aside/footer. */
function pageH1(doc: DomDocument): string | undefined {
  const h1 = doc.querySelector("main h1, article h1") ??
    Array.from(doc.querySelectorAll("h1")).find((el) => !el.closest("nav, aside, footer, header, [role=navigation]"));
  return nonEmpty(h1 ? textOf(h1) : undefined);
}

/** Depth-first walk: headings and pre/tr become their own blocks; other block elements end paragraphs. */
function walk(root: DomNode): BlockDraft[] {
  const out: BlockDraft[] = [];
  let buf = "";
  const flush = (): void => {
    const t = collapseWhitespace(buf);
    if (t) out.push({ kind: "paragraph", text: t });
    buf = "";
  };
  const visit = (node: DomNode): void => {
    if (node.nodeType === TEXT_NODE) {
      buf += node.textContent ?? "";
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const el = node as DomElement;
    const tag = tagOf(el);
    if (SKIP.has(tag) || isHidden(el)) return;
    const heading = /^h([1-6])$/.exec(tag);
    if (heading) {
      flush();
      // Blogs and docs end headings with a permalink mark ("#", "¶"); it is not part of the title.
      const text = collapseWhitespace(textOf(el)).replace(/(?<=\S)\s*[#¶§🔗]$/u, "");
      out.push({ kind: "heading", level: Number(heading[1]), text });
      return;
    }
    if (tag === "pre") {
      flush();
      out.push({ kind: "paragraph", text: textOf(el).replace(/\r\n?/g, "\n") }); // keeps code layout
      return;
    }
    if (tag === "tr") {
      flush();
      const cells = Array.from(el.childNodes)
        .filter((c) => c.nodeType === ELEMENT_NODE && /^t[dh]$/.test(tagOf(c as DomElement)))
        .map((c) => collapseWhitespace(textOf(c)))
        .filter((c) => c !== "");
      out.push({ kind: "paragraph", text: cells.join(" | ") });
      return;
    }
    if (tag === "br") {
      buf += " ";
      return;
    }
    const block = BLOCK.has(tag);
    if (block) flush();
    for (const child of Array.from(node.childNodes)) visit(child);
    if (block) flush();
  };
  visit(root);
  flush();
  return out;
}

/** Text of a subtree without script/style and friends. */
function textOf(node: DomNode): string {
  if (node.nodeType === TEXT_NODE) return node.textContent ?? "";
  if (node.nodeType !== ELEMENT_NODE) return "";
  const el = node as DomElement;
  const tag = tagOf(el);
  if (SKIP.has(tag) || isHidden(el)) return "";
  if (tag === "br") return "\n";
  let s = "";
  for (const child of Array.from(node.childNodes)) s += textOf(child);
  // Adjacent cells or list items must not run together when collapsed into one line.
  return BLOCK.has(tag) || tag === "td" || tag === "th" || tag === "tr" ? ` ${s} ` : s;
}

function tagOf(el: DomElement): string {
  return (el.localName ?? el.nodeName).toLowerCase();
}

function isHidden(el: DomElement): boolean {
  if (el.getAttribute("hidden") !== null || el.getAttribute("aria-hidden") === "true") return true;
  const style = el.getAttribute("style");
  return style !== null && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style);
}

function textLength(drafts: BlockDraft[]): number {
  return drafts.reduce((n, d) => n + d.text.length, 0);
}

function sameText(a: string, b: string): boolean {
  return collapseWhitespace(a).toLowerCase() === collapseWhitespace(b).toLowerCase();
}

function nonEmpty(s: string | null | undefined): string | undefined {
  const t = s ? collapseWhitespace(s) : "";
  return t === "" ? undefined : t;
}
