// The demo prints citations the way `strata ask` and the API do: the document id and the source
// as stored (an absolute path), not a path of its own making; and each of its questions is answered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { isAbsolute, join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";

test("demo citations name the same document id and absolute source as the CLI", () => {
  const r = spawnSync(process.execPath, [join(repoRoot(), "scripts", "demo.mjs")], { encoding: "utf8", cwd: repoRoot(), timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const cited = [...r.stdout.matchAll(/^\s+\[\d+\] (doc_[0-9a-f]+) (\S+) chars \d+–\d+$/gm)];
  assert.ok(cited.length > 0, r.stdout);
  // A newcomer's first answers: every demo question is answered from the docs, none is "not found".
  assert.equal([...r.stdout.matchAll(/\(mode: extractive, supported: true\)/g)].length, 3, r.stdout);
  assert.match(r.stdout, /A: The knowledge base store uses SQLite/);
  const kb = join(repoRoot(), "strata-demo", "kb");
  for (const [, docId, source] of cited) {
    assert.ok(isAbsolute(source!), source);
    assert.equal(jsonOf<{ source: string }>(strata(["docs", "show", docId!, "--kb", kb, "--json"])).source, source);
  }
});
