// Gzip-compressed sources (notes.md.gz): inflated with a hard cap on the output, so a gzip bomb
// stops at the limit instead of filling memory; the payload is then loaded by its inner name.
import { gunzipSync } from "node:zlib";
import { StrataError } from "../../core/errors.js";
import { overLimit, type ParseLimits } from "./parse-limits.js";

/** "a.md.gz" → "a.md"; other names unchanged. */
export function innerName(name: string): string {
  return /\.gz$/i.test(name) ? name.slice(0, -3) : name;
}

export function gunzipLimited(bytes: Uint8Array, limits: ParseLimits): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: limits.maxInflatedBytes });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) throw overLimit("maxInflatedBytes", limits.maxInflatedBytes, limits.maxInflatedBytes, true, "gzip payload");
    throw new StrataError("PARSE_FAILED", `gzip data could not be read: ${err.message.slice(0, 200)}`, "check the file with `gzip -t`; it may be truncated or not gzip");
  }
}
