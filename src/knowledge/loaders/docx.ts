// DOCX: mammoth converts the Word structure (heading styles, lists, tables) to HTML, and the HTML
// walk turns that into blocks, so both formats share one notion of structure.

import mammoth from "mammoth";
import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble } from "./blocks.js";
import { htmlToDrafts } from "./html.js";
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from "./parse-limits.js";
import { hasZipHeader, startsWith } from "./sniff.js";
import { guardZip } from "./zip-guard.js";

export const DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

// Word's Title/Subtitle styles are not headings in mammoth's default map; they are the outline's root.
const styleMap = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];
// Images carry no text; an empty src keeps mammoth from base64-encoding every picture into the HTML.
const skipImages = mammoth.images.imgElement(() => Promise.resolve({ src: "" }));

export async function loadDocx(bytes: Uint8Array, limits: ParseLimits = DEFAULT_PARSE_LIMITS): Promise<ExtractedDocument> {
  if (startsWith(bytes, "\xd0\xcf\x11\xe0")) {
    throw new StrataError("PARSE_FAILED", "file is a legacy Word .doc (OLE) document, not .docx", "save it as .docx (Word or LibreOffice: Save As) and ingest that");
  }
  if (!hasZipHeader(bytes)) throw corrupt("it is not a ZIP container");
  await guardZip(bytes, limits);
  let html: string;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    html = (await mammoth.convertToHtml({ buffer }, { convertImage: skipImages, styleMap })).value;
  } catch (e) {
    throw corrupt((e as Error).message ?? String(e), e);
  }
  // mammoth ends each footnote with a "↑" back-link; it is navigation, not text.
  const drafts = htmlToDrafts(html.replace(/<a href="#(?:footnote|endnote)-ref-[^"]*">[^<]*<\/a>/g, ""));
  const title = drafts.find((d) => d.kind === "heading" && d.text.trim() !== "")?.text;
  return assemble(drafts, DOCX_MIME, title);
}

function corrupt(why: string, cause?: unknown): StrataError {
  const first = why.split("\n")[0]?.slice(0, 200) ?? "";
  return new StrataError("PARSE_FAILED", `DOCX could not be read: ${first}`, "open and re-save the document in Word or LibreOffice; the file may be damaged or not a .docx", { cause });
}
