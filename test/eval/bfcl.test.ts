// BFCL's four AST categories: the reader (file, line and field in every error), order-free matching
// of parallel calls, and the checker against the real ground truth when the shared data is present.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { bfclCategory, readBfcl } from "../../src/eval/bfcl.js";
import { checkCalls, oracleCall, type BfclFunction, type GroundTruth } from "../../src/eval/function-calling.js";
import { sharedData, tempDir } from "../helpers/paths.js";

const play: BfclFunction = { name: "spotify.play", description: "play", parameters: { type: "dict", properties: { artist: { type: "string" }, duration: { type: "integer" } }, required: ["artist", "duration"] } };
const stop: BfclFunction = { name: "spotify.stop", description: "stop", parameters: { type: "dict", properties: {}, required: [] } };
const twoPlays: GroundTruth = [{ "spotify.play": { artist: ["Taylor Swift"], duration: [20] } }, { "spotify.play": { artist: ["Maroon 5"], duration: [15] } }];

describe("checkCalls", () => {
  it("matches parallel calls in any order", () => {
    const a = { name: "spotify_play", arguments: { artist: "Maroon 5", duration: 15 } };
    const b = { name: "spotify_play", arguments: { artist: "taylor swift", duration: 20 } };
    assert.deepEqual(checkCalls([a, b], [play], twoPlays), { ok: true });
    assert.deepEqual(checkCalls([b, a], [play], twoPlays), { ok: true });
  });

  it("refuses the wrong number of calls, and two calls that satisfy the same expected one", () => {
    const b = { name: "spotify_play", arguments: { artist: "Taylor Swift", duration: 20 } };
    assert.equal((checkCalls([b], [play], twoPlays) as { kind: string }).kind, "wrong_count");
    const r = checkCalls([b, b], [play], twoPlays);
    assert.equal(r.ok, false);
    assert.equal((r as { kind: string }).kind, "wrong_value");
  });

  it("parallel-multiple: each expected function is matched by its own call", () => {
    const truth: GroundTruth = [{ "spotify.play": { artist: ["Adele"], duration: [5] } }, { "spotify.stop": {} }];
    assert.deepEqual(checkCalls([{ name: "spotify_stop", arguments: {} }, { name: "spotify.play", arguments: { artist: "Adele", duration: 5 } }], [play, stop], truth), { ok: true });
    assert.equal(checkCalls([{ name: "spotify_stop", arguments: {} }, { name: "spotify_stop", arguments: {} }], [play, stop], truth).ok, false);
  });

  it("simple: exactly one call", () => {
    const one: GroundTruth = [twoPlays[0]!];
    assert.deepEqual(checkCalls([{ name: "spotify.play", arguments: { artist: "Taylor Swift", duration: 20 } }], [play], one), { ok: true });
    assert.equal((checkCalls([], [play], one) as { kind: string }).kind, "no_call");
    const c = { name: "spotify.play", arguments: { artist: "Taylor Swift", duration: 20 } };
    assert.equal((checkCalls([c, c], [play], one) as { kind: string }).kind, "wrong_count");
  });
});

describe("readBfcl", () => {
  it("takes the category from the file name", () => {
    assert.equal(bfclCategory("BFCL_v4_simple_python.json"), "simple");
    assert.equal(bfclCategory("BFCL_v4_multiple.json"), "multiple");
    assert.equal(bfclCategory("BFCL_v4_parallel.json"), "parallel");
    assert.equal(bfclCategory("BFCL_v4_parallel_multiple.json"), "parallel_multiple");
  });

  it("reads a parallel file and names the line and field of a bad one", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "possible_answer"));
    const q = { id: "parallel_0", question: [[{ role: "user", content: "Play Taylor Swift for 20 and Maroon 5 for 15 minutes" }]], function: [play] };
    writeFileSync(join(dir, "BFCL_v4_parallel.json"), JSON.stringify(q) + "\n");
    writeFileSync(join(dir, "possible_answer", "BFCL_v4_parallel.json"), JSON.stringify({ id: "parallel_0", ground_truth: twoPlays }) + "\n");
    const items = readBfcl(join(dir, "BFCL_v4_parallel.json"));
    assert.equal(items[0]?.category, "parallel");
    assert.equal(items[0]?.truth.length, 2);
    writeFileSync(join(dir, "BFCL_v4_parallel.json"), JSON.stringify(q) + "\n" + JSON.stringify({ ...q, id: "parallel_1", function: "none" }) + "\n");
    assert.throws(() => readBfcl(join(dir, "BFCL_v4_parallel.json")), (e: unknown) => e instanceof StrataError && /BFCL_v4_parallel\.json line 2: field "function" is invalid/.test(e.message));
  });

  it("every ground-truth answer of the shared simple and multiple sets passes checkCalls", { skip: sharedData("bfcl") ? false : "../shared/data/bfcl is not present" }, () => {
    for (const file of ["BFCL_v4_simple_python.json", "BFCL_v4_multiple.json"]) {
      const items = readBfcl(join(sharedData("bfcl") as string, file));
      assert.ok(items.length > 100);
      for (const it of items) assert.deepEqual(checkCalls([oracleCall(it.truth, it.functions)], it.functions, it.truth), { ok: true }, it.id);
    }
  });
});
