// The package's entry points: every "exports" subpath resolves (by the package's own name, as a user
// would import it) to a built module that exports something, and the root surface has what the
// README's library examples use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./helpers/paths.js";

const pkg = JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { name: string; exports: Record<string, unknown> };

test("every exports subpath imports by package name and exports something", async () => {
  for (const sub of Object.keys(pkg.exports)) {
    if (sub.endsWith(".json")) continue;
    const spec = sub === "." ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    const mod = (await import(spec)) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${spec} exports nothing`);
  }
});

test("the root entry point has knowledge bases, models and errors", async () => {
  const root = (await import(pkg.name)) as Record<string, unknown>;
  for (const name of ["KnowledgeBase", "createLanguageModel", "createEmbeddingModel", "parseModelRef", "StrataError", "isStrataError", "SEARCH_MODES"]) {
    assert.ok(name in root, `"${pkg.name}" lacks ${name}`);
  }
  assert.ok(!("createStrataServer" in root), "the server is its own entry point");
});

test("strata/agents has what a user calls, and not the plumbing behind it", async () => {
  const agents = (await import(`${pkg.name}/agents`)) as Record<string, unknown>;
  for (const name of ["defineTool", "knowledgeTools", "runAgent", "resumeAgent", "graph", "runGraph", "resumeGraph", "decide", "forkRun", "loadGraphFile", "AgentStore", "AuditLog", "composeValidators"]) {
    assert.equal(typeof agents[name], "function", `strata/agents lacks ${name}`);
  }
  for (const name of ["invokeTool", "validateArgs", "fenceUntrusted", "detectInstructions", "openAgentDatabase", "parseJsonAction", "renderTemplate", "emptyUsage"]) {
    assert.ok(!(name in agents), `strata/agents exports the internal ${name}`);
  }
});
