// The README's UAT assistant walk-through with the built CLI: write the export, ingest the
// Confluence pages, run examples/uat-assistant/graph.json (its TypeScript module loads through tsx),
// approve each story's test cases from separate processes, and verify the audit trail.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { join } from "node:path";
import { writeExport } from "../../examples/uat-assistant/export.js";
import { jsonOf, strata } from "../helpers/cli.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

interface RunJson {
  threadId: string;
  status: string;
  pending: Array<{ callId: string; tool: string; args: { story: string; citations: unknown[] }; reason: string }>;
  result: Array<{ callId: string; filed: boolean }> | null;
}

test("UAT assistant from the CLI: per story, drafted cases wait for approval; approved ones are filed; the audit verifies", () => {
  const root = tempDir("strata-uat-cli-");
  writeExport(join(root, "export"));
  const ingest = strata(["ingest", join(root, "export", "confluence"), "--kb", join(root, "kb"), "--json"]);
  assert.equal(ingest.code, 0, ingest.stderr);
  const store = join(root, "agents");
  const graph = join(repoRoot(), "examples", "uat-assistant", "graph.json");
  const first = strata(["agent", "run", graph, "--kb", join(root, "kb"), "--var", `export=${join(root, "export")}`, "--var", `db=${join(root, "cases.db")}`, "--store", store, "--json", "--quiet"]);
  assert.equal(first.code, 0, first.stderr);
  let r = jsonOf<RunJson>(first);
  assert.equal(r.status, "interrupted");
  assert.deepEqual(r.pending.map((p) => p.callId), ["file:SHOP-101:1", "file:SHOP-101:2", "file:SHOP-101:3"]);
  assert.ok(r.pending.every((p) => p.tool === "file_test_case" && p.args.citations.length > 0 && /write tool/.test(p.reason)));
  const stories: string[] = [];
  while (r.status === "interrupted") {
    stories.push(r.pending[0]!.args.story);
    const next = strata(["agent", "approve", r.threadId, "--all", "--by", "test-lead", "--store", store, "--json", "--quiet"]);
    assert.equal(next.code, 0, next.stderr);
    r = jsonOf<RunJson>(next);
  }
  assert.equal(r.status, "completed");
  assert.deepEqual(stories, ["SHOP-101", "SHOP-102", "SHOP-103"]);
  assert.equal(r.result!.filter((f) => f.filed).length, 7);
  const db = new Database(join(root, "cases.db"), { readonly: true });
  assert.equal((db.prepare("SELECT count(*) AS n FROM test_cases").get() as { n: number }).n, 7);
  db.close();
  const verify = strata(["audit", "verify", r.threadId, "--store", store]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /intact \(\d+ entries/);
  const show = strata(["agent", "show", r.threadId, "--store", store]);
  assert.match(show.stdout, /approval\.decided\s+file:SHOP-103:2 approved by test-lead/);
});
