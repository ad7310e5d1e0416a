// The real CLI: `strata eval qa` prints EM/F1/abstention/citation figures and writes a report and
// JUnit XML; `strata eval compare` compares two stored runs; bad data gets a one-line error naming
// the line and field.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { jsonOf, strata, strataAsync } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";

const dir = tempDir("strata-cli-qa-");
const data = join(dir, "qa.jsonl");
writeFileSync(
  data,
  [
    { id: "q1", question: "Who led the Normans into Normandy?", answers: ["Rollo"], contexts: ["Rollo led the Normans into Normandy in 911. He was a Viking."] },
    { id: "q2", question: "Where did the Normans settle?", answers: ["Normandy"], contexts: ["The Normans settled in Normandy, a region of France."] },
    { id: "q3", question: "Who was the first king of Mars?", answers: [] },
  ]
    .map((o) => JSON.stringify(o))
    .join("\n"),
);
const runs = join(dir, "runs");

test("eval qa prints the figures, stores the run, writes the report and JUnit; compare pairs two runs", () => {
  const text = strata(["eval", "qa", "--data", data, "--runs", runs, "--report", join(dir, "qa.html"), "--junit", join(dir, "qa.xml")]);
  assert.equal(text.code, 0, text.stderr);
  for (const label of ["EM", "F1", "abstention", "citations (ALCE)", "ms/question"]) assert.ok(text.stdout.includes(label), `${label} in:\n${text.stdout}`);
  assert.match(readFileSync(join(dir, "qa.html"), "utf8"), /Who led the Normans into Normandy\?/);
  assert.match(readFileSync(join(dir, "qa.xml"), "utf8"), /<testsuite name="strata eval qa qa" tests="3"/);

  const a = jsonOf<{ run: string; summary: Record<string, number> }>(strata(["eval", "qa", "--data", data, "--runs", runs, "--json"]));
  const b = jsonOf<{ run: string; summary: Record<string, number> }>(strata(["eval", "qa", "--data", data, "--runs", runs, "--system", "baseline", "--json"]));
  assert.equal(a.summary.questions, 3);
  assert.equal(a.summary.abstention_recall, 1, "the extractive default declines the question its sources cannot answer");
  assert.ok(existsSync(join(runs, a.run, "items.jsonl")));
  const c = strata(["eval", "compare", a.run, b.run, "--runs", runs, "--json"]);
  const cmp = jsonOf<{ common: number; metrics: { metric: string; delta: number; low: number; high: number }[] }>(c);
  assert.equal(cmp.common, 3);
  const f1 = cmp.metrics.find((m) => m.metric === "f1");
  assert.ok(f1 && f1.low <= f1.delta && f1.delta <= f1.high);
  assert.ok(Math.abs((f1?.delta ?? NaN) - ((b.summary.f1 ?? 0) - (a.summary.f1 ?? 0))) < 1e-3);
});

test("bad input: a malformed line is named with its field, a missing run is named, --help has examples", () => {
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, `{"question": "a?", "answers": ["x"]}\n{"question": "b?", "answers": 7}\n`);
  const r = strata(["eval", "qa", "--data", bad, "--runs", runs]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: bad\.jsonl line 2: field "answers" is invalid/);
  assert.match(r.stderr, /hint: /);
  const m = strata(["eval", "compare", "20260101-000000-00000000", "20260101-000000-00000001", "--runs", runs]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /there is no stored run/);
  assert.match(strata(["eval", "qa", "--help"]).stdout, /Examples:\n {2}strata eval qa --data/);
});

test("Ctrl-C stops a run between questions; --resume finishes it from its stored items", async () => {
  const big = join(dir, "big.jsonl");
  const contexts = Array.from({ length: 60 }, (_, i) => `Passage ${i}: the river number ${i} flows into lake ${i * 7} near the town of Alpha${i}.`);
  writeFileSync(big, Array.from({ length: 800 }, (_, i) => JSON.stringify({ id: `q${i}`, question: `Where does river number ${i % 60} flow?`, answers: [`lake ${(i % 60) * 7}`], contexts: [contexts[i % 60]] })).join("\n"));
  const child = strataAsync(["eval", "qa", "--data", big, "--runs", runs]);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const runId = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /run (\S+) \(stored/.exec(stderr);
      if (m && existsSync(join(runs, m[1] as string, "items.jsonl")) && readFileSync(join(runs, m[1] as string, "items.jsonl"), "utf8").split("\n").length > 5) {
        clearInterval(timer);
        resolve(m[1] as string);
      }
    }, 50);
    child.on("exit", () => (clearInterval(timer), reject(new Error(`exited before it could be interrupted: ${stderr}`))));
  });
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /cancelled/);
  const done = readFileSync(join(runs, runId, "items.jsonl"), "utf8").trim().split("\n").length;
  assert.ok(done > 0 && done < 800, `${done} items stored before the interrupt`);
  const resumed = strata(["eval", "qa", "--data", big, "--runs", runs, "--resume", runId, "--json"], { timeoutMs: 300_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resumed run ${runId}: ${done} questions were already scored`));
  assert.equal(jsonOf<{ summary: { questions: number } }>(resumed).summary.questions, 800);
});
