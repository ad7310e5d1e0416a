// The regression gate in `npm test`: SciFact nDCG@10 and the extractive answerer's SQuAD F1 and
// abstention may not fall below test/eval/baselines.json. Re-record on purpose with
// `node dist/src/cli/main.js eval gate --update` (then commit the file).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { checkGate, measureGate, readBaseline } from "../../src/eval/gate.js";
import { repoRoot, sharedData, tempDir } from "../helpers/paths.js";

const BASELINES = join(repoRoot(), "test", "eval", "baselines.json");
// Worktrees keep the shared data elsewhere; STRATA_SHARED_DATA points there.
const data = process.env.STRATA_SHARED_DATA ?? (sharedData("scifact") && sharedData("squad") ? sharedData() : undefined);

describe("the regression gate", () => {
  it("compares each figure with its baseline, allowing only the stated tolerance", () => {
    const b = readBaseline(BASELINES);
    const at = { ...b.figures };
    assert.ok(checkGate(at, b).every((c) => c.ok));
    const fell = checkGate({ ...at, squad_f1: at.squad_f1 - 2 * b.tolerance - 1e-9 }, b);
    assert.deepEqual(
      fell.filter((c) => !c.ok).map((c) => c.name),
      ["squad_f1"],
    );
  });

  it("refuses a damaged baseline file with the fix", () => {
    const f = join(tempDir(), "b.json");
    writeFileSync(f, JSON.stringify({ formatVersion: 1, tolerance: 0, recordedAt: "x", codeVersion: "x", how: "x", figures: { squad_f1: 1 } }));
    assert.throws(() => readBaseline(f), (e: unknown) => e instanceof StrataError && /figures/.test(e.message) && /eval gate --update/.test(e.hint));
  });

  it("SciFact nDCG@10 and SQuAD F1 / abstention stay at or above the recorded baselines", { timeout: 900_000, skip: data ? false : "../shared/data (scifact, squad) is not present; set STRATA_SHARED_DATA" }, async () => {
    const baseline = readBaseline(BASELINES);
    const figures = await measureGate(data as string);
    const failed = checkGate(figures, baseline).filter((c) => !c.ok);
    assert.deepEqual(failed, [], `figures fell below test/eval/baselines.json: ${failed.map((c) => `${c.name} ${c.value} < ${c.baseline}`).join("; ")}. If the change is meant to move them, re-record with \`node dist/src/cli/main.js eval gate --update\` and commit the file.`);
  });
});
