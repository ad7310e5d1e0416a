// Atomic writes (src/core/atomic-file.ts): the file is the old one or the new one, never a mix, and
// a failed write leaves no temporary file behind and says what could not be written.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tempPathFor, writeFileAtomic, writeFileAtomicSync } from "../../src/core/atomic-file.js";
import { isStrataError } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";

describe("atomic file writes", () => {
  it("replaces a file's content whole (async and sync, text and bytes), leaving no temporary file", async () => {
    const dir = tempDir();
    const p = join(dir, "run.json");
    writeFileSync(p, "old");
    await writeFileAtomic(p, "new text");
    assert.equal(readFileSync(p, "utf8"), "new text");
    writeFileAtomicSync(p, Uint8Array.of(104, 105));
    assert.equal(readFileSync(p, "utf8"), "hi");
    assert.deepEqual(readdirSync(dir), ["run.json"]);
  });

  it("a write that cannot happen is UNREADABLE naming the file, and leaves the old file and no temporary", async () => {
    const dir = tempDir();
    const p = join(dir, "sub");
    mkdirSync(p); // a folder where the file should go: rename fails
    await assert.rejects(writeFileAtomic(p, "x", { what: "the manifest" }), isStrataError("UNREADABLE", /cannot write the manifest to .*sub/, /writable/));
    assert.throws(() => writeFileAtomicSync(join(dir, "missing", "f.json"), "x"), isStrataError("UNREADABLE", /missing\/f\.json/));
    assert.deepEqual(readdirSync(dir), ["sub"]);
  });

  it("temporary names are beside the target and unique per call", () => {
    const a = tempPathFor("/d/f.json");
    assert.match(a, /^\/d\/f\.json\.tmp-\d+-[0-9a-f]{8}$/);
    assert.notEqual(a, tempPathFor("/d/f.json"));
  });
});
