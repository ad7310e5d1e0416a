// The one assertion for "this fails with StrataError code X": pass it to `assert.rejects` or
// `assert.throws` as the validator. Each pattern must match the message or the hint, so a test can
// pin the cause and the fix without repeating the whole sentence.
//
//   await assert.rejects(kb.search(""), isStrataError("USAGE", /empty query/, /hint words/));
import assert from "node:assert/strict";
import { StrataError } from "../../src/core/errors.js";

/** A validator: the error is a StrataError with `code`, and every pattern matches "message | hint: hint". */
export function isStrataError(code: string, ...patterns: RegExp[]): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof StrataError, `expected a StrataError ${code}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.code, code, `the code of: ${e.message}`);
    for (const p of patterns) assert.match(`${e.message} | hint: ${e.hint ?? ""}`, p);
    return true;
  };
}

/** `assert.rejects(promise, isStrataError(code, ...patterns))`, for the common case. */
export function rejectsWithCode(promise: Promise<unknown> | (() => Promise<unknown>), code: string, ...patterns: RegExp[]): Promise<void> {
  return assert.rejects(promise, isStrataError(code, ...patterns));
}
