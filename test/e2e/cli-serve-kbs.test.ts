// `strata serve kbs import|list` as an operator uses them: a base made with `strata ingest` is
// copied into a fresh data folder with its member groups, the first `strata serve` on that folder
// prints the admin key, a member's key gets cited answers from it and a non-member's key sees no
// such base. Importing a folder that is not a base, a base from a newer Strata, a damaged one, an
// existing name or a missing folder fails with a one-line error and leaves nothing registered.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { jsonOf, strata, type CliResult } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";
import { Client } from "../server/helpers.js";
import { startServe, type ServeProcess } from "../server/serve-process.js";

interface Imported { name: string; documents: number; members: { users: string[]; groups: string[] } }
interface Citation { n: number; docId: string; quote: string; start: number; end: number }

const running: ServeProcess[] = [];
after(async () => {
  for (const s of running) await s.stop();
});

const FALCON = "# Falcon field study\n\nThe falcon sensors on the north ridge are recalibrated every 14 days by the field team.\n";
const OTTERS = "# Otter survey\n\nVolunteers counted 17 otters along the river in May.\n";

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

/** Exactly one `error:` line and one `hint:` line, the error matching `pattern`. */
function clearError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.deepEqual(lines.map((l) => l.split(":")[0]), ["error", "hint"], r.stderr);
  assert.match(lines[0]!, pattern);
}

test("import a CLI-made base with --groups: members search it with citations, others do not see it; bad imports change nothing", async () => {
  const root = tempDir("strata-e2e-kbs-");
  const docs = join(root, "docs");
  mkdirSync(docs);
  writeFileSync(join(docs, "falcon.md"), FALCON);
  writeFileSync(join(docs, "otters.md"), OTTERS);
  const kb = join(root, "field-kb");
  const data = join(root, "server-data");
  assert.equal(jsonOf<{ added: number }>(ok(strata(["ingest", docs, "--kb", kb, "--json"]))).added, 2);

  // Users and keys offline, before the server ever ran.
  ok(strata(["serve", "users", "add", "dana", "--groups", "research", "--data", data]));
  ok(strata(["serve", "users", "add", "sam", "--groups", "ops", "--data", data]));
  const danaKey = jsonOf<{ key: string }>(ok(strata(["serve", "keys", "create", "--user", "dana", "--scopes", "read", "--data", data, "--json"]))).key;
  const samKey = jsonOf<{ key: string }>(ok(strata(["serve", "keys", "create", "--user", "sam", "--scopes", "read", "--data", data, "--json"]))).key;

  const imported = jsonOf<Imported>(ok(strata(["serve", "kbs", "import", kb, "--name", "field", "--groups", "research", "--data", data, "--json"])));
  assert.equal(imported.name, "field");
  assert.equal(imported.documents, 2);
  assert.deepEqual(imported.members, { users: [], groups: ["research"] });
  const human = ok(strata(["serve", "kbs", "list", "--data", data]));
  assert.match(human.stdout, /^field {2}group research {2}created /m);

  // ---- refusals: each a clear error, nothing registered, nothing left in kbs/ ----
  clearError(strata(["serve", "kbs", "import", docs, "--name", "notakb", "--data", data]), 1, /docs is not a Strata knowledge base/);
  clearError(strata(["serve", "kbs", "import", kb, "--name", "field", "--data", data]), 2, /knowledge base field already exists/);
  clearError(strata(["serve", "kbs", "import", join(root, "nowhere"), "--name", "missing", "--data", data]), 1, /nowhere does not exist/);
  clearError(strata(["serve", "kbs", "import", kb, "--data", data]), 2, /--name <name> is required/);
  clearError(strata(["serve", "kbs", "import", kb, "--name", "../escape", "--data", data]), 2, /name "\.\.\/escape" is not valid/);
  const newer = join(root, "newer-kb");
  cpSync(kb, newer, { recursive: true });
  const db = new Database(join(newer, "strata.db"));
  db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
  db.close();
  clearError(strata(["serve", "kbs", "import", newer, "--name", "newer", "--data", data]), 1, /written by a newer Strata/);
  const damaged = join(root, "damaged-kb");
  mkdirSync(damaged);
  writeFileSync(join(damaged, "strata.db"), "this is not a database, just text that looks nothing like SQLite".repeat(100));
  clearError(strata(["serve", "kbs", "import", damaged, "--name", "damaged", "--data", data]), 1, /damaged-kb is not a Strata knowledge base: strata\.db/);
  assert.deepEqual(jsonOf<{ name: string }[]>(ok(strata(["serve", "kbs", "list", "--data", data, "--json"]))).map((k) => k.name), ["field"]);
  assert.deepEqual(readdirSync(join(data, "kbs")), ["field"], "no half-copied or staging folder is left");

  // ---- the first start prints the admin key, although offline commands made server.db ----
  const server = await startServe(["--data", data]);
  running.push(server);
  const adminKey = (await server.waitFor(/admin key \(shown once[^\n]*\n\s+(strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43})/))[1]!;
  const http = new Client(server.url);
  assert.deepEqual((await http.get("/api/kbs", adminKey)).json<{ name: string }[]>().map((k) => k.name), ["field"]);

  // A member (through the research group) gets ranked, cited results.
  const kbs = (await http.get("/api/kbs", danaKey)).json<{ name: string; documents: number }[]>();
  assert.deepEqual(kbs.map((k) => [k.name, k.documents]), [["field", 2]]);
  const search = await http.post("/api/kbs/field/search", danaKey, { query: "falcon sensors recalibrated" });
  assert.equal(search.status, 200, search.text);
  const hits = search.json<{ results: { title: string; text: string }[] }>().results;
  assert.equal(hits[0]?.title, "Falcon field study");
  const ask = await http.post("/api/kbs/field/ask", danaKey, { question: "How often are the falcon sensors recalibrated?" });
  assert.equal(ask.status, 200, ask.text);
  const answer = ask.json<{ answer: string; citations: Citation[] }>();
  assert.match(answer.answer, /14 days/);
  assert.ok(answer.citations.length > 0);
  const doc = (await http.get(`/api/kbs/field/documents/${answer.citations[0]!.docId}`, danaKey)).json<{ text: string }>();
  assert.equal(doc.text.slice(answer.citations[0]!.start, answer.citations[0]!.end), answer.citations[0]!.quote, "the citation quotes the document exactly");

  // A non-member sees no such base: not listed, and 404 like one that does not exist.
  assert.deepEqual((await http.get("/api/kbs", samKey)).json(), []);
  assert.equal((await http.post("/api/kbs/field/search", samKey, { query: "falcon" })).status, 404);
  assert.equal((await http.post("/api/kbs/notakb/search", adminKey, { query: "falcon" })).status, 404, "a refused import is not served");

  // The original folder is untouched and still usable by the CLI.
  assert.equal(jsonOf<{ results: unknown[] }>(ok(strata(["search", "otters river", "--kb", kb, "--json"]))).results.length > 0, true);
  assert.equal(await server.stop(), 0);
});
