// The UAT assistant example (examples/uat-assistant) run through the library: its export is in the
// real formats and ingests into a knowledge base; per story the graph retrieves the related pages,
// drafts test cases whose citations are exact spans of those pages, and files each case only
// after approval — a rejected case is never filed, and resuming never files one twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadGraphFile } from "../../src/agents/graph/file.js";
import { decide, resumeGraph, runGraph, type RunOptions } from "../../src/agents/graph/runtime.js";
import { AgentStore } from "../../src/agents/store/agent-store.js";
import { AuditLog } from "../../src/agents/store/audit.js";
import { knowledgeTools } from "../../src/agents/tools/knowledge.js";
import { ToolBox } from "../../src/agents/tools/tool.js";
import { KnowledgeBase } from "../../src/knowledge/knowledge-base.js";
import { OWNER } from "../../src/knowledge/store/access.js";
import plugin, { readJiraXml } from "../../examples/uat-assistant/plugin.js";
import { STORIES, writeExport } from "../../examples/uat-assistant/export.js";
import { repoRoot, tempDir } from "../helpers/paths.js";

const GRAPH = join(repoRoot(), "examples", "uat-assistant", "graph.json");
const PLUGIN_URL = pathToFileURL(join(repoRoot(), "examples", "uat-assistant", "plugin.ts")).href;

test("the export reads back: Jira XML stories with their acceptance criteria; CSV and Confluence pages are written", () => {
  const dir = tempDir("strata-uat-export-");
  const layout = writeExport(dir);
  const stories = readJiraXml(readFileSync(layout.jiraXml, "utf8"));
  assert.deepEqual(stories.map((s) => [s.key, s.summary, s.acceptance.length]), STORIES.map((s) => [s.key, s.summary, s.acceptance.length]));
  assert.equal(stories[1]!.acceptance[0], STORIES[1]!.acceptance[0]);
  const csv = readFileSync(layout.jiraCsv, "utf8");
  assert.ok(csv.startsWith("Summary,Issue key,Issue id,Issue Type"));
  assert.match(readFileSync(join(layout.confluence, "SHOP", "Checkout-and-Payments_65541.html"), "utf8"), /<div id="main-content" class="wiki-content group">/);
});

test("per story: retrieve, draft cited cases, file each only after approval; rejected ones are not filed; nothing twice", async () => {
  const root = tempDir("strata-uat-");
  const layout = writeExport(join(root, "export"));
  const kb = KnowledgeBase.open(join(root, "kb"), { create: true });
  assert.equal((await kb.ingest([layout.confluence])).failed.length, 0);
  const loaded = await loadGraphFile(GRAPH, {
    tools: new ToolBox(knowledgeTools({ kb, access: OWNER })),
    vars: { export: join(root, "export"), db: join(root, "cases.db") },
    baseDir: root,
    // The module is TypeScript; this test may run compiled, so it is handed the module it imported.
    importModule: async (url) => (url === PLUGIN_URL ? { default: plugin } : import(url)),
  });
  const store = AgentStore.open(join(root, "agents"), { create: true });
  const opts: RunOptions = { store, tools: loaded.tools, vars: loaded.vars };
  let r = await runGraph(loaded.graph, loaded.input, opts);
  const seen: string[] = [];
  let rounds = 0;
  while (r.status === "interrupted") {
    rounds++;
    for (const p of r.pending) {
      seen.push(p.callId);
      const args = p.args as { story: string; expected: string; citations: Array<{ docId: string; start: number; end: number; quote: string }> };
      assert.ok(args.citations.length > 0, `${p.callId} cites a page`);
      for (const c of args.citations) assert.equal(kb.getDocument(c.docId, OWNER).text.slice(c.start, c.end), c.quote, "a citation is an exact span of the page");
      decide(store, r.threadId, p.callId, p.callId === "file:SHOP-102:2" ? { approve: false, by: "lead", comment: "covered by SHOP-98" } : { approve: true, by: "lead" });
    }
    r = await resumeGraph(loaded.graph, r.threadId, opts);
  }
  assert.equal(r.status, "completed", JSON.stringify(r.error));
  assert.equal(rounds, 3, "one approval round per story");
  assert.deepEqual(seen, ["file:SHOP-101:1", "file:SHOP-101:2", "file:SHOP-101:3", "file:SHOP-102:1", "file:SHOP-102:2", "file:SHOP-103:1", "file:SHOP-103:2"]);
  const db = new Database(join(root, "cases.db"), { readonly: true });
  const rows = db.prepare("SELECT story, title FROM test_cases ORDER BY id").all() as Array<{ story: string; title: string }>;
  db.close();
  assert.equal(rows.length, 6, "7 drafted, 1 rejected");
  assert.ok(!rows.some((row) => row.title.startsWith("SHOP-102 AC2")));
  const filed = r.result as Array<{ callId: string; filed: boolean; rejectedBy: string | null; id: number | null }>;
  const rejected = filed.find((f) => f.callId === "file:SHOP-102:2")!;
  assert.deepEqual([rejected.filed, rejected.id, rejected.rejectedBy], [false, null, "lead"]);

  // Resuming the finished run files nothing again.
  await resumeGraph(loaded.graph, r.threadId, opts);
  const again = new Database(join(root, "cases.db"), { readonly: true });
  assert.equal((again.prepare("SELECT count(*) AS n FROM test_cases").get() as { n: number }).n, 6);
  again.close();
  assert.equal(new AuditLog(store).verify(r.threadId).ok, true);
  store.close();
  kb.close();
});
