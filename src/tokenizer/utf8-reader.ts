// Reading training text in bounded memory: files of any size are read in chunks, checked to be
// UTF-8 on the way (tokenizer training and the token-dataset builder both read text this way).
import type { FileHandle } from "node:fs/promises";
import { StrataError } from "../core/errors.js";
import { completeUtf8Prefix, firstInvalidUtf8 } from "./bytes.js";

/**
 * Reads an open file chunk by chunk as UTF-8 text: a chunk never ends inside a character, a leading
 * byte-order mark is dropped, and the first invalid byte is an INVALID_UTF8 error naming `path`, the
 * byte and its offset. `bytes` is the file bytes each chunk came from.
 */
export async function readUtf8Chunks(fh: FileHandle, path: string, chunkBytes: number, onText: (text: string, bytes: number) => void | Promise<void>): Promise<void> {
  const buf = Buffer.alloc(chunkBytes + 4);
  let held = 0; // bytes of a character cut by the previous read, at buf[0..held)
  let offset = 0; // file offset of buf[0]
  for (;;) {
    const { bytesRead } = await fh.read(buf, held, chunkBytes, null);
    const end = held + bytesRead;
    const cut = bytesRead === 0 ? end : completeUtf8Prefix(buf, end);
    const bad = firstInvalidUtf8(buf, cut);
    if (bad >= 0) {
      throw new StrataError(
        "INVALID_UTF8",
        `training file ${path} is not UTF-8 text (byte 0x${buf[bad]!.toString(16).padStart(2, "0")} at offset ${offset + bad} ${bytesRead === 0 ? "starts a character the file cuts short" : "is not valid UTF-8"})`,
        "convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8) or leave it out",
      );
    }
    if (cut > 0) {
      let text = buf.toString("utf8", 0, cut);
      if (offset === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not text
      await onText(text, cut);
    }
    if (bytesRead === 0) return;
    buf.copy(buf, 0, cut, end);
    held = end - cut;
    offset += cut;
  }
}
