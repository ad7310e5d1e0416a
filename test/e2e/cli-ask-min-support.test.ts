// `strata ask --min-support`: the calibrated support bar of extractive answers, validated, and the
// abstention reason in the answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

interface Answer { supported: boolean; abstention?: string; abstentionDetail?: string; sentences: { support: number }[] }

const kb = join(tempDir(), "kb");
assert.equal(strata(["ingest", join(repoRoot(), "test", "fixtures", "kb", "public"), "--kb", kb, "--json"]).code, 0);
const question = "How heavy is the Fresnel lens?";

test("a stricter --min-support turns the same answer into 'not found', with the reason", () => {
  const loose = jsonOf<Answer>(strata(["ask", question, "--kb", kb, "--min-support", "0", "--json"]));
  assert.equal(loose.supported, true);
  const support = loose.sentences[0]!.support;
  assert.ok(support > 0 && support < 1, String(support));
  const strict = jsonOf<Answer>(strata(["ask", question, "--kb", kb, "--min-support", String(Math.min(1, support + 0.01)), "--json"]));
  assert.equal(strict.supported, false);
  assert.equal(strict.abstention, "no-supported-sentence");
  assert.match(strict.abstentionDetail ?? "", /below the minimum/);
});

test("--min-support outside 0–1, or with --model, is a usage error", () => {
  for (const bad of ["2", "-0.1", "high"]) {
    const r = strata(["ask", question, "--kb", kb, "--min-support", bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /--min-support must be a number from 0 to 1/);
  }
  const r = strata(["ask", question, "--kb", kb, "--min-support", "0.5", "--model", "openai:http://127.0.0.1:9/v1#x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--min-support applies to extractive answers/);
});
