// Confluence storage-format XML: a space export's entities.xml (Hibernate objects: pages, their
// bodies, parents and attachments) or a single exported <page><title/><body/></page>. Pages become
// headings nested by the page tree, so a chunk's heading path reads space › parent › page › heading;
// each page's attachments are named in a line under it. Bodies go through the HTML block walk after
// the ac:/ri: elements are turned into plain HTML.

import { DOMParser } from "linkedom";
import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble, collapseWhitespace, type BlockDraft } from "./blocks.js";
import { htmlToDrafts } from "./html.js";

export const CONFLUENCE_MIME = "application/vnd.atlassian.confluence+xml";

interface XmlElement {
  localName: string;
  textContent: string | null;
  innerHTML: string;
  children: ArrayLike<XmlElement>;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<XmlElement>;
}

/** One page of the tree: its title, storage-format body, attachments' names and child pages. */
interface PageNode {
  id: string;
  title: string;
  body: string;
  attachments: string[];
  parent?: string;
  position: number;
  children: PageNode[];
}

/** Deeper element nesting than this is refused before parsing: real exports stay far below it. */
const MAX_DEPTH = 500;

/** The deepest element nesting of an XML text, by a linear scan of its tags (no parser, no recursion). */
function nestingDepth(xml: string, stopAt: number): number {
  let depth = 0;
  let max = 0;
  for (const m of xml.matchAll(/<(\/?)[A-Za-z][^<>]*?(\/?)>/g)) {
    if (m[1]) depth = Math.max(0, depth - 1);
    else if (!m[2]) {
      depth++;
      if (depth > max) max = depth;
      if (max > stopAt) break;
    }
  }
  return max;
}

export function loadConfluence(xml: string): ExtractedDocument {
  // A page nested thousands deep (hostile or broken) would cost minutes and the stack in the DOM walk.
  if (nestingDepth(xml, MAX_DEPTH) > MAX_DEPTH) {
    throw new StrataError("PARSE_FAILED", `the XML nests elements more than ${MAX_DEPTH} deep`, "check the export; a Confluence page never nests that deep");
  }
  let root: XmlElement | null;
  try {
    root = (new DOMParser().parseFromString(xml, "text/xml") as unknown as { documentElement: XmlElement | null }).documentElement;
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `XML could not be parsed: ${(e as Error).message}`, "check that the file is a Confluence storage-format export", { cause: e });
  }
  const kind = root?.localName.toLowerCase();
  let space: string | undefined;
  let pages: PageNode[];
  if (root && kind === "hibernate-generic") ({ space, pages } = fromEntities(root));
  else if (root && kind === "page") pages = [fromPageElement(root, "p")];
  else if (root && /<(ac|ri):[a-z-]+/i.test(xml)) pages = [{ id: "p", title: "", body: root.innerHTML, attachments: [], position: 0, children: [] }];
  else {
    throw new StrataError(
      "UNSUPPORTED_TYPE",
      "this XML file is not a Confluence storage-format export (no <page>, entities.xml objects or ac: elements)",
      "only Confluence exports are read from .xml; convert other XML to .txt, .json or .html",
    );
  }
  const drafts: BlockDraft[] = [];
  const base = space ? 1 : 0;
  if (space) drafts.push({ kind: "heading", level: 1, text: space });
  const visit = (page: PageNode, depth: number): void => {
    const level = Math.min(6, base + depth + 1);
    if (page.title) drafts.push({ kind: "heading", level, text: page.title });
    for (const d of htmlToDrafts(storageToHtml(page.body))) {
      // A body's own headings sit under its page's heading, and never repeat the page title.
      if (d.kind === "heading" && page.title && collapseWhitespace(d.text) === page.title) continue;
      drafts.push(d.kind === "heading" ? { ...d, level: Math.min(6, (page.title ? level : level - 1) + (d.level ?? 1)) } : d);
    }
    if (page.attachments.length > 0) drafts.push({ kind: "paragraph", text: `Attachments: ${page.attachments.join(", ")}` });
    for (const child of page.children) visit(child, depth + 1);
  };
  for (const p of pages) visit(p, 0);
  return assemble(drafts, CONFLUENCE_MIME, space ?? pages[0]?.title);
}

/** A hand-written or single-page export: <page><title/><body/>, child <page>s nested inside. */
function fromPageElement(el: XmlElement, id: string): PageNode {
  const kids = Array.from(el.children);
  const title = collapseWhitespace(kids.find((c) => c.localName === "title")?.textContent ?? "");
  const body = kids.find((c) => c.localName === "body")?.innerHTML ?? "";
  const attachments = kids.filter((c) => c.localName === "attachment").map((c) => c.getAttribute("filename") ?? collapseWhitespace(c.textContent ?? "")).filter(Boolean);
  const childPages = kids.flatMap((c) => (c.localName === "page" ? [c] : c.localName === "children" ? Array.from(c.children).filter((g) => g.localName === "page") : []));
  return { id, title, body, attachments, position: 0, children: childPages.map((c, i) => fromPageElement(c, `${id}.${i}`)) };
}

/** The objects of a space export's entities.xml: current pages and blog posts, bodies, attachments. */
function fromEntities(root: XmlElement): { space?: string; pages: PageNode[] } {
  const pages = new Map<string, PageNode>();
  const bodies: { owner: string; body: string }[] = [];
  const attachments: { owner: string; name: string }[] = [];
  let space: string | undefined;
  for (const obj of Array.from(root.children)) {
    if (obj.localName !== "object") continue;
    const cls = obj.getAttribute("class") ?? "";
    const props = propertiesOf(obj);
    if ((cls === "Page" || cls === "BlogPost") && !props.has("originalVersion") && (props.get("contentStatus")?.text ?? "current") === "current") {
      const id = idOf(obj);
      pages.set(id, { id, title: collapseWhitespace(props.get("title")?.text ?? ""), body: "", attachments: [], parent: props.get("parent")?.ref, position: Number(props.get("position")?.text ?? "0") || 0, children: [] });
    } else if (cls === "BodyContent") {
      const owner = props.get("content")?.ref;
      if (owner) bodies.push({ owner, body: props.get("body")?.text ?? "" });
    } else if (cls === "Attachment" && !props.has("originalVersion")) {
      const owner = props.get("containerContent")?.ref ?? props.get("content")?.ref;
      const name = collapseWhitespace(props.get("title")?.text ?? props.get("fileName")?.text ?? "");
      if (owner && name) attachments.push({ owner, name });
    } else if (cls === "Space" && !space) {
      space = collapseWhitespace(props.get("name")?.text ?? "") || undefined;
    }
  }
  for (const b of bodies) {
    const page = pages.get(b.owner);
    if (page && !page.body) page.body = b.body;
  }
  for (const a of attachments) pages.get(a.owner)?.attachments.push(a.name);
  const roots: PageNode[] = [];
  for (const p of pages.values()) {
    const parent = p.parent ? pages.get(p.parent) : undefined;
    (parent && parent !== p ? parent.children : roots).push(p);
  }
  const order = (list: PageNode[]): void => {
    list.sort((a, b) => a.position - b.position || a.title.localeCompare(b.title));
    for (const p of list) order(p.children);
  };
  order(roots);
  return { space, pages: roots };
}

function idOf(obj: XmlElement): string {
  return collapseWhitespace(Array.from(obj.children).find((c) => c.localName === "id")?.textContent ?? "");
}

/** name → text, or the id of the object it refers to (`<property name="parent" class="Page"><id>…`). */
function propertiesOf(obj: XmlElement): Map<string, { text: string; ref?: string }> {
  const out = new Map<string, { text: string; ref?: string }>();
  for (const p of Array.from(obj.children)) {
    if (p.localName !== "property") continue;
    const name = p.getAttribute("name");
    if (!name) continue;
    const ref = Array.from(p.children).find((c) => c.localName === "id");
    out.set(name, { text: p.textContent ?? "", ...(ref ? { ref: collapseWhitespace(ref.textContent ?? "") } : {}) });
  }
  return out;
}

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const attr = (tag: string, name: string): string => new RegExp(`${name}\\s*=\\s*"([^"]*)"`, "i").exec(tag)?.[1] ?? "";

/**
 * Storage format → HTML the block walk understands: code bodies become <pre>, task lists lists,
 * panels <div>s; links read as their label or the page they point to, images and attachments as
 * their file names; macros with no content of their own (toc, children) and emoticons disappear.
 */
export function storageToHtml(storage: string): string {
  return storage
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, text: string) => escapeHtml(text))
    .replace(/<ac:parameter\b[^>]*\/>|<ac:parameter\b[^>]*>[\s\S]*?<\/ac:parameter>/gi, "")
    .replace(/<ac:structured-macro\b[^>]*ac:name="(toc|children|pagetree|recently-updated|anchor)"[^>]*(\/>|>[\s\S]*?<\/ac:structured-macro>)/gi, "")
    .replace(/<ac:(emoticon|task-status|task-id)\b[^>]*(\/>|>[\s\S]*?<\/ac:\1>)/gi, "")
    .replace(/<ac:image\b[^>]*>([\s\S]*?)<\/ac:image>/gi, (_, inner: string) => {
      const file = attr(inner, "ri:filename") || attr(inner, "ri:value");
      return file ? `<p>[image: ${escapeHtml(file)}]</p>` : "";
    })
    .replace(/<ac:link\b[^>]*>([\s\S]*?)<\/ac:link>/gi, (_, inner: string) => {
      const label = /<ac:(?:plain-text-)?link-body>([\s\S]*?)<\/ac:(?:plain-text-)?link-body>/i.exec(inner)?.[1];
      return label ?? escapeHtml(attr(inner, "ri:content-title") || attr(inner, "ri:filename") || attr(inner, "ri:username"));
    })
    .replace(/<ri:attachment\b[^>]*\/>/gi, (tag) => escapeHtml(attr(tag, "ri:filename")))
    .replace(/<(\/?)ac:plain-text-body\b[^>]*>/gi, "<$1pre>")
    .replace(/<(\/?)ac:task-list\b[^>]*>/gi, "<$1ul>")
    .replace(/<(\/?)ac:task(?=[\s>/])[^>]*>/gi, "<$1li>")
    .replace(/<(\/?)ac:(structured-macro|rich-text-body|layout|layout-section|layout-cell|task-body)\b[^>]*>/gi, (_, close: string, name: string) => (name === "task-body" ? `<${close}span>` : `<${close}div>`))
    .replace(/<\/?(ac|ri):[a-z-]+\b[^>]*>/gi, "");
}
