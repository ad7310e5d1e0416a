// Helpers for the UAT assistant example:
//   npx tsx examples/uat-assistant/uat.ts export ./uat/export   writes the synthetic Jira + Confluence export
//   npx tsx examples/uat-assistant/uat.ts cases ./uat/cases.db  lists the filed test cases with their citations
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { writeExport } from "./export.js";

const [command, target] = process.argv.slice(2);
if (command === "export" && target) {
  const layout = writeExport(target);
  process.stdout.write(`wrote ${layout.jiraXml}\n      ${layout.jiraCsv}\n      ${layout.confluence}/SHOP/*.html\n`);
} else if (command === "cases" && target) {
  if (!existsSync(target)) {
    process.stdout.write(`no test cases filed yet (${target} does not exist)\n`);
  } else {
    const db = new Database(target, { readonly: true });
    const rows = db.prepare("SELECT id, story, title, expected, citations, drafted_by FROM test_cases ORDER BY id").all() as Array<{ id: number; story: string; title: string; expected: string; citations: string; drafted_by: string | null }>;
    for (const r of rows) {
      process.stdout.write(`#${r.id} ${r.title}  (drafted by ${r.drafted_by ?? "?"})\n   expected: ${r.expected}\n`);
      for (const c of JSON.parse(r.citations) as Array<{ title: string; start: number; end: number; quote: string }>) process.stdout.write(`   cites "${c.title}" chars ${c.start}–${c.end}: "${c.quote}"\n`);
    }
    process.stdout.write(`${rows.length} test case(s) filed\n`);
    db.close();
  }
} else {
  process.stderr.write("usage: uat.ts export <dir> | cases <cases.db>\n");
  process.exitCode = 2;
}
