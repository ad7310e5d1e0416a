import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { StrataError } from "../../src/core/errors.js";
import type { ProgressEvent } from "../../src/core/events.js";
import { readBeir, runRetrievalEval } from "../../src/eval/index.js";

const tmpRoots: string[] = [];
after(async () => {
  for (const d of tmpRoots) await rm(d, { recursive: true, force: true });
});

interface Layout {
  corpus?: string | null;
  queries?: string | null;
  qrels?: Record<string, string> | null;
}

const CORPUS = [
  `{"_id": "d1", "title": "Alpha", "text": "first doc", "metadata": {"url": "x"}}`,
  `{"_id": "d2", "text": "no title field"}`,
  `{"_id": 3, "title": null, "text": "numeric id, null title"}`,
].join("\n");
const QUERIES = [`{"_id": "q1", "text": "find alpha", "metadata": {}}`, `{"_id": "q2", "text": "second"}`, `{"_id": "q3", "text": "unjudged in test"}`].join("\n");
const QRELS_TEST = "query-id\tcorpus-id\tscore\nq2\td2\t1\nq1\td1\t2\nq1\t3\t1\nq2\td1\t0\n";

/** Writes a BEIR folder named `name` under a fresh temporary directory; null leaves a part out. */
async function writeBeir(layout: Layout = {}, name = "tiny"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "strata-beir-"));
  tmpRoots.push(root);
  const dir = join(root, name);
  await mkdir(dir);
  const corpus = layout.corpus === undefined ? CORPUS : layout.corpus;
  const queries = layout.queries === undefined ? QUERIES : layout.queries;
  const qrels = layout.qrels === undefined ? { test: QRELS_TEST } : layout.qrels;
  if (corpus !== null) await writeFile(join(dir, "corpus.jsonl"), corpus);
  if (queries !== null) await writeFile(join(dir, "queries.jsonl"), queries);
  if (qrels !== null) {
    await mkdir(join(dir, "qrels"));
    for (const [split, text] of Object.entries(qrels)) await writeFile(join(dir, "qrels", `${split}.tsv`), text);
  }
  return dir;
}

/** Asserts a StrataError with the code, a message matching every pattern, and one-line message and hint. */
async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp[], hint?: RegExp): Promise<StrataError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof StrataError, `expected a StrataError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of message) assert.match(caught.message, m);
  if (hint) assert.match(caught.hint, hint);
  assert.ok(caught.hint.length > 0, "a hint is given");
  assert.ok(!/\n/.test(caught.message) && !/\n/.test(caught.hint), "message and hint are one line each");
  return caught;
}

describe("readBeir", () => {
  it("reads corpus, judged queries and graded qrels", async () => {
    const dir = await writeBeir();
    const ds = await readBeir(dir);
    assert.equal(ds.name, "tiny");
    assert.equal(ds.split, "test");
    assert.deepEqual(ds.corpus, [
      { id: "d1", title: "Alpha", text: "first doc" },
      { id: "d2", title: "", text: "no title field" },
      { id: "3", title: "", text: "numeric id, null title" },
    ]);
    // q3 has no qrels in the split: left out. Order follows queries.jsonl.
    assert.deepEqual([...ds.queries], [
      ["q1", "find alpha"],
      ["q2", "second"],
    ]);
    assert.deepEqual([...ds.qrels.keys()], ["q1", "q2"]);
    assert.deepEqual([...(ds.qrels.get("q1") ?? [])], [
      ["d1", 2],
      ["3", 1],
    ]);
    assert.deepEqual([...(ds.qrels.get("q2") ?? [])], [
      ["d2", 1],
      ["d1", 0],
    ]);
  });

  it("tolerates a missing qrels header, CRLF line ends, a BOM and blank lines", async () => {
    const dir = await writeBeir({
      corpus: "\ufeff" + CORPUS.replace(/\n/g, "\r\n") + "\r\n\r\n",
      qrels: { dev: "q1\td1\t1\r\n\r\nq3\td2\t2\r\n" },
    });
    const ds = await readBeir(dir, "dev");
    assert.equal(ds.split, "dev");
    assert.equal(ds.corpus.length, 3);
    assert.equal(ds.corpus[0]?.id, "d1");
    assert.deepEqual([...ds.queries.keys()], ["q1", "q3"]);
    assert.equal(ds.qrels.get("q3")?.get("d2"), 2);
  });

  it("missing folder: NOT_FOUND naming it", async () => {
    const missing = join(tmpdir(), "strata-no-such-beir-folder-xyz");
    await rejectsWith(readBeir(missing), "NOT_FOUND", [/folder not found/, /strata-no-such-beir-folder-xyz/], /corpus\.jsonl/);
  });

  it("missing corpus.jsonl: NOT_FOUND naming the file", async () => {
    const dir = await writeBeir({ corpus: null });
    await rejectsWith(readBeir(dir), "NOT_FOUND", [/corpus\.jsonl/]);
  });

  it("missing queries.jsonl or qrels folder: NOT_FOUND", async () => {
    await rejectsWith(readBeir(await writeBeir({ queries: null })), "NOT_FOUND", [/queries\.jsonl/]);
    await rejectsWith(readBeir(await writeBeir({ qrels: null })), "NOT_FOUND", [/qrels/]);
  });

  it("missing split: NOT_FOUND whose hint lists the splits present", async () => {
    const dir = await writeBeir({ qrels: { train: QRELS_TEST, dev: QRELS_TEST } });
    await rejectsWith(readBeir(dir, "test"), "NOT_FOUND", [/split "test" not found/, /test\.tsv/], /dev, train/);
  });

  it("invalid split name: USAGE", async () => {
    const dir = await writeBeir();
    await rejectsWith(readBeir(dir, "../test"), "USAGE", [/invalid split/]);
  });

  it("malformed JSON line: PARSE_FAILED naming file and line number", async () => {
    const lines = CORPUS.split("\n");
    const dir = await writeBeir({ corpus: [lines[0], lines[1], `{"_id": "d9", "text": "unterminated`, lines[2]].join("\n") });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/corpus\.jsonl line 3/, /not valid JSON/], /line 3/);
  });

  it("a JSON line without the required field: PARSE_FAILED naming the field", async () => {
    const dir = await writeBeir({ queries: `{"_id": "q1", "text": "ok"}\n{"_id": "q2"}\n` });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/queries\.jsonl line 2/, /"text"/]);
    const dir2 = await writeBeir({ corpus: `{"title": "t", "text": "no id"}\n` });
    await rejectsWith(readBeir(dir2), "PARSE_FAILED", [/corpus\.jsonl line 1/, /"_id"/]);
  });

  it("qrels row with too few columns: PARSE_FAILED naming file, line and count", async () => {
    const dir = await writeBeir({ qrels: { test: "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2 d2 1\n" } });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/qrels\/test\.tsv line 3/, /expected 3 tab-separated columns/, /found 1/], /tab/);
    const dir2 = await writeBeir({ qrels: { test: "q1\td1\n" } });
    await rejectsWith(readBeir(dir2), "PARSE_FAILED", [/qrels\/test\.tsv line 1/, /found 2/]);
  });

  it("qrels row in TREC's 4-column layout or with a non-numeric score: PARSE_FAILED", async () => {
    const dir = await writeBeir({ qrels: { test: "q1\t0\td1\t1\n" } });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/line 1/, /found 4/, /TREC/]);
    const dir2 = await writeBeir({ qrels: { test: "query-id\tcorpus-id\tscore\nq1\td1\thigh\n" } });
    await rejectsWith(readBeir(dir2), "PARSE_FAILED", [/line 2/, /score "high" is not a number/]);
  });

  it("qrels naming a query absent from queries.jsonl: PARSE_FAILED", async () => {
    const dir = await writeBeir({ qrels: { test: "q1\td1\t1\nq404\td1\t1\n" } });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/qrels\/test\.tsv/, /q404/, /missing from queries\.jsonl/]);
  });

  it("duplicate corpus id: PARSE_FAILED with both line numbers", async () => {
    const dir = await writeBeir({ corpus: `${CORPUS}\n{"_id": "d1", "text": "again"}\n` });
    await rejectsWith(readBeir(dir), "PARSE_FAILED", [/corpus\.jsonl line 4/, /duplicate _id "d1"/, /line 1/]);
  });

  it("streams a larger corpus, reporting progress, and honours an aborted signal", async () => {
    const docs = Array.from({ length: 25_000 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: `t${i}`, text: `text ${i} `.repeat(5) }));
    const dir = await writeBeir({ corpus: docs.join("\n") + "\n" });
    const events: ProgressEvent[] = [];
    const ds = await readBeir(dir, "test", { onProgress: (e) => events.push(e) });
    assert.equal(ds.corpus.length, 25_000);
    assert.equal(ds.corpus[24_999]?.id, "d24999");
    assert.deepEqual(
      events.map((e) => e.done),
      [10_000, 20_000, 25_000],
    );
    assert.ok(events.every((e) => e.phase === "read" && e.item === "corpus.jsonl"));
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(readBeir(dir, "test", { signal: ac.signal }), "ABORTED", [/cancelled/]);
  });
});

/** The repository root: the nearest ancestor of this file with a package.json (works from test/ and dist/test/). */
function repoRoot(): string | null {
  let d = dirname(fileURLToPath(import.meta.url));
  while (true) {
    if (existsSync(join(d, "package.json"))) return d;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

describe("readBeir on the real SciFact", () => {
  const root = repoRoot();
  const dir = root ? join(root, "..", "shared", "data", "scifact") : "";

  it("reads 5,183 documents and the 300 judged test queries (339 pairs)", async (t) => {
    if (!root || !existsSync(join(dir, "corpus.jsonl"))) {
      t.skip(`SciFact not found at ${dir || "<no package.json above this test>"}; put the BEIR scifact folder in shared/data/scifact to run this`);
      return;
    }
    const ds = await readBeir(dir, "test");
    assert.equal(ds.name, "scifact");
    assert.equal(ds.corpus.length, 5183);
    assert.equal(ds.queries.size, 300);
    assert.equal(ds.qrels.size, 300);
    let pairs = 0;
    for (const m of ds.qrels.values()) pairs += m.size;
    assert.equal(pairs, 339);
    const ids = new Set(ds.corpus.map((d) => d.id));
    for (const m of ds.qrels.values()) for (const id of m.keys()) assert.ok(ids.has(id), `qrels doc ${id} is in the corpus`);
    assert.ok(ds.corpus.every((d) => d.text.length > 0));

    // An oracle search (the judged documents first, then filler) must score 1 on every metric.
    const filler = ds.corpus.slice(0, 120).map((d) => d.id);
    const order = [...ds.queries.keys()]; // the runner asks in dataset order
    let next = 0;
    const res = await runRetrievalEval(ds, () => {
      const qrels = ds.qrels.get(order[next++] as string) ?? new Map<string, number>();
      const rel = [...qrels].filter(([, g]) => g > 0).sort((a, b) => b[1] - a[1]).map(([d]) => d);
      return [...rel, ...filler];
    });
    assert.equal(res.queries, 300);
    assert.equal(res.ndcg_at_10, 1);
    assert.equal(res.recall_at_100, 1);
    assert.equal(res.mrr_at_10, 1);
  });
});
