// File names that lie about themselves: control characters and bidirectional overrides (U+202E
// turns "report\u202Efdp.exe" into "reportexe.pdf" on screen). Such files are refused, and their
// names are only ever shown escaped.
import { basename } from "node:path";
import { StrataError } from "../../core/errors.js";

// eslint-disable-next-line no-control-regex
const DECEPTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** The name with every control or format (bidi, zero-width) character written as \u{…}, safe to print. */
export function escapeName(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, "0")}}`);
}

/** A USAGE error when the file's own name holds control or bidi characters; undefined when it is fine. */
export function unsafeNameError(path: string): StrataError | undefined {
  const name = basename(path);
  if (!DECEPTIVE.test(name)) return undefined;
  return new StrataError("USAGE", `file name "${escapeName(name)}" contains control or right-to-left override characters`, "rename the file to a plain name; such names can disguise what a file is");
}
