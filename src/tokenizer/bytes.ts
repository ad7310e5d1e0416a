// Bytes and text for a byte-level tokenizer: UTF-8 encoding into a reusable buffer, locating the
// first invalid byte of a file, where a buffer's last complete character ends, and GPT-2's mapping
// of the 256 byte values onto printable characters (the form GGUF's `gpt2` vocabularies store).

/**
 * GPT-2's byte-to-unicode table (a published fact of the format): the printable bytes
 * `!`..`~`, `¡`..`¬` and `®`..`ÿ` stand for themselves; the other 68 byte values (controls, space,
 * DEL, NBSP, soft hyphen…) are shifted, in increasing order, onto U+0100 and up. So space is `Ġ`
 * (U+0120) and newline is `Ċ` (U+010A). A token's text is its bytes mapped one by one.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 0x100 + shifted++);
  }
  return table;
})();

/** The inverse of BYTE_TO_CHAR: a mapped character's code unit to its byte, -1 for any other. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const inv = new Int16Array(0x100 + 68).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => (inv[ch.charCodeAt(0)] = b));
  return inv;
})();

/** Bytes as GPT-2 mapped text (one character per byte). */
export function bytesToMapped(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/** GPT-2 mapped text back to bytes; undefined when a character is not part of the mapping. */
export function mappedToBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
    if (b < 0) return undefined;
    out[i] = b;
  }
  return out;
}

/**
 * Writes the UTF-8 encoding of `s` into `buf` (grown when too small) and returns the buffer with
 * the byte length. A lone surrogate (not valid Unicode, so not encodable) becomes U+FFFD's bytes,
 * exactly as TextEncoder does.
 */
export function utf8Encode(s: string, buf: Uint8Array): { buf: Uint8Array; length: number } {
  if (buf.length < s.length * 3) buf = new Uint8Array(Math.max(s.length * 3, buf.length * 2));
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[n++] = c;
    } else if (c < 0x800) {
      buf[n++] = 0xc0 | (c >> 6);
      buf[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[n++] = 0xf0 | (c >> 18);
        buf[n++] = 0x80 | ((c >> 12) & 0x3f);
        buf[n++] = 0x80 | ((c >> 6) & 0x3f);
        buf[n++] = 0x80 | (c & 0x3f);
      } else {
        buf[n++] = 0xef; // U+FFFD
        buf[n++] = 0xbf;
        buf[n++] = 0xbd;
      }
    } else {
      buf[n++] = 0xe0 | (c >> 12);
      buf[n++] = 0x80 | ((c >> 6) & 0x3f);
      buf[n++] = 0x80 | (c & 0x3f);
    }
  }
  return { buf, length: n };
}

/** Length of the well-formed UTF-8 sequence starting at `i` (1–4), or 0 when it is invalid or cut short. */
function sequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    if (b0 === 0xe0) lo = 0xa0; // no overlong forms
    if (b0 === 0xed) hi = 0x9f; // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + need >= end) return 0; // cut short
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k]!;
    if (k === 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf) return 0;
  }
  return need + 1;
}

/**
 * Offset of the first byte that does not start a well-formed UTF-8 sequence within
 * bytes[0, end), or -1 when all of it is well-formed. A sequence cut short by `end` counts as
 * invalid; use `completeUtf8Prefix` first when more bytes may follow.
 */
export function firstInvalidUtf8(bytes: Uint8Array, end = bytes.length): number {
  let i = 0;
  while (i < end) {
    if (bytes[i]! < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i, end);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

/**
 * The length of the longest prefix of bytes[0, end) that does not end inside a multi-byte
 * character: the last up-to-3 bytes are held back when they start a sequence that continues past
 * `end`. Bytes that can never be valid are not held back (validation reports them).
 */
export function completeUtf8Prefix(bytes: Uint8Array, end = bytes.length): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
  let i = end - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (bytes[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return end;
  const b0 = bytes[i]!;
  const need = b0 >= 0xf5 ? 1 : b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 ? 2 : 1;
  return end - i < need ? i : end;
}
