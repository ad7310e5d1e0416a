// Byte-level checks before any parser sees a file: emptiness, binary content, UTF-8 validity,
// container magic numbers. Text formats go through decodeText so every loader gets clean LF text.

import { StrataError } from "../../core/errors.js";

const SAMPLE_BYTES = 64 * 1024;
/** Share of control bytes in the sample above which a "text" file is treated as binary. */
const MAX_CONTROL_SHARE = 0.1;

/** Decodes a text-format file: rejects empty, binary and non-UTF-8 bytes; strips BOM; LF line ends. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw emptyFile();
  let text: string;
  const utf16 = utf16Encoding(bytes);
  if (utf16) {
    // UTF-16 text has NUL bytes everywhere; with a BOM it is unambiguous, so decode it rather than reject.
    try {
      text = new TextDecoder(utf16, { fatal: true }).decode(bytes);
    } catch {
      throw new StrataError("INVALID_UTF8", `text has a ${utf16.toUpperCase()} byte-order mark but is not valid ${utf16.toUpperCase()}`, "re-save the file as UTF-8");
    }
  } else {
    if (looksBinary(bytes)) {
      throw new StrataError("BINARY_FILE", "file content is binary (NUL or control bytes), not text", "check the file type: rename it to its real extension or convert it to text");
    }
    try {
      // fatal: a wrong encoding must be an error, not silent U+FFFD replacement characters.
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      const where = at ? ` (first bad byte at offset ${at.offset}, line ${at.line})` : "";
      throw new StrataError("INVALID_UTF8", `text is not valid UTF-8${where}`, "convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8 in > out`");
    }
  }
  text = stripBom(text).replace(/\r\n?/g, "\n");
  if (text.trim() === "") throw emptyFile();
  return text;
}

export function emptyFile(): StrataError {
  return new StrataError("EMPTY_FILE", "file is empty or contains only whitespace", "remove the file from the sources or add content to it");
}

export function noTextExtracted(): StrataError {
  return new StrataError("EMPTY_FILE", "no text could be extracted from the document", "check that the document has text content; remove it from the sources if it has none");
}

export function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** NUL anywhere, or many control bytes in the first 64 KiB: real UTF-8 text has neither. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.indexOf(0) !== -1) return true;
  const n = Math.min(bytes.length, SAMPLE_BYTES);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i] as number;
    // Tab, LF, VT, FF, CR and ESC (ANSI colours in logs) are normal in text.
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0b && b !== 0x0c && b !== 0x0d && b !== 0x1b) || b === 0x7f) control++;
  }
  return n > 0 && control / n > MAX_CONTROL_SHARE;
}

function utf16Encoding(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  return undefined;
}

/** Only on the error path: where decoding failed, so the message can point at it. */
function firstInvalidUtf8(bytes: Uint8Array): { offset: number; line: number } | undefined {
  let line = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b === 0x0a) line++;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return { offset: i, line };
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return { offset: i, line };
    }
    i += need + 1;
  }
  return undefined; // overlong forms or surrogates: the decoder knows, this quick scan does not

}

export function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** "%PDF-" may follow some junk bytes; readers accept it within the first KiB. */
export function hasPdfHeader(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024));
  return head.includes("%PDF-");
}

export function hasZipHeader(bytes: Uint8Array): boolean {
  return startsWith(bytes, "PK\x03\x04");
}
