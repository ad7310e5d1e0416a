// Real PDF, DOCX, HTML and Jira-export files through the CLI: they ingest, and answers cite them
// with exact spans — and, for PDF, the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { jsonOf, strata } from "../helpers/cli.js";
import { sharedData, tempDir } from "../helpers/paths.js";

interface Citation { docId: string; source: string; start: number; end: number; quote: string; page: number | null }
interface Answer { answer: string; supported: boolean; citations: Citation[] }

const documents = sharedData("documents");

test("real documents: ingest all, cite a PDF sentence with its page, a DOCX and a Jira issue", (t) => {
  if (!documents) return t.skip("../shared/data/documents is missing");
  const kb = join(tempDir(), "kb");
  const ingest = strata(["ingest", documents, "--kb", kb, "--exclude", "**/*.reference.md", "--json"], { timeoutMs: 300_000 });
  assert.equal(ingest.code, 0, ingest.stderr);
  const report = jsonOf<{ added: number; failed: unknown[] }>(ingest);
  assert.ok(report.added >= 20, `added ${report.added}`);

  const text = (id: string) => jsonOf<{ text: string }>(strata(["show", id, "--kb", kb, "--json"])).text;
  const ask = (q: string) => jsonOf<Answer>(strata(["ask", q, "--kb", kb, "--json"]));

  const pdf = ask("Is there contemporaneous exploration of multi-agent approaches?");
  const pdfCite = pdf.citations.find((c) => c.source.endsWith("markitdown-test-autogen.pdf"));
  assert.ok(pdfCite, JSON.stringify(pdf.citations.map((c) => c.source)));
  assert.equal(pdfCite.page, 1);
  assert.equal(text(pdfCite.docId).slice(pdfCite.start, pdfCite.end), pdfCite.quote);

  const docx = ask("What is AutoGen?");
  assert.ok(docx.citations.some((c) => /markitdown-test(_with_comment)?\.(docx|pdf)$/.test(c.source)));
  for (const c of docx.citations) assert.equal(text(c.docId).slice(c.start, c.end), c.quote);

  const search = jsonOf<{ results: { source: string; headingPath: string[] }[] }>(strata(["search", "NUTCH-580 deprecated hadoop api calls", "--kb", kb, "--json", "-k", "3"]));
  assert.ok(search.results[0]?.source.endsWith("apache-nutch-issues.jsonl"));
  assert.ok(search.results[0]!.headingPath.some((h) => h.includes("NUTCH-580")), JSON.stringify(search.results[0]!.headingPath));
});
