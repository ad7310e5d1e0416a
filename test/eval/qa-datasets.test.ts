import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { StrataError } from "../../src/core/errors.js";
import { readQaDataset } from "../../src/eval/qa-datasets.js";

const dir = mkdtempSync(join(tmpdir(), "strata-qa-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const fails = (f: () => unknown, message: RegExp): void =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof StrataError, String(e));
    assert.match(e.message, message);
    assert.ok(e.hint.length > 0);
    return true;
  });

describe("readQaDataset: JSONL", () => {
  it("reads questions, golds, contexts (deduplicated into passages) and unanswerable lines", () => {
    const p = file(
      "ok.jsonl",
      [
        JSON.stringify({ id: "a", question: "Who?", answers: ["Rollo"], contexts: ["Rollo led them.", "Other text."] }),
        "",
        JSON.stringify({ question: "Why?", answers: [], contexts: ["Rollo led them."] }),
        JSON.stringify({ question: "What?", reference: "A long reference answer." }),
      ].join("\n"),
    );
    const d = readQaDataset(p);
    assert.equal(d.format, "jsonl");
    assert.deepEqual(
      d.items.map((i) => [i.id, i.answerable, i.answers, i.goldPassages]),
      [
        ["a", true, ["Rollo"], ["ctx1", "ctx2"]],
        ["line3", false, [], ["ctx1"]],
        ["line4", true, ["A long reference answer."], []],
      ],
    );
    assert.equal(d.passages.length, 2);
    assert.match(d.hash, /^[0-9a-f]{64}$/);
  });

  it("names the line and field of a malformed line", () => {
    fails(() => readQaDataset(file("bad-json.jsonl", `{"question": "a", "answers": ["x"]}\n{"question": "b",\n`)), /bad-json\.jsonl line 2: not valid JSON/);
    fails(() => readQaDataset(file("bad-field.jsonl", `{"question": "a", "answers": ["x"]}\n\n{"question": "b", "answers": "x"}\n`)), /bad-field\.jsonl line 3: field "answers" is invalid/);
    fails(() => readQaDataset(file("no-q.jsonl", `{"answers": ["x"]}\n`)), /no-q\.jsonl line 1: field "question" is invalid/);
  });

  it("refuses a question without gold answers, naming the line", () => {
    fails(() => readQaDataset(file("no-gold.jsonl", `{"question": "a", "answers": ["x"]}\n{"id": "q2", "question": "b"}\n`)), /no-gold\.jsonl line 2: field "answers" is missing/);
    // ... unless the caller does not need golds (eval rag)
    assert.equal(readQaDataset(join(dir, "no-gold.jsonl"), { requireGold: false }).items.length, 2);
  });
});

describe("readQaDataset: SQuAD JSON and folder", () => {
  it("reads SQuAD 2.0 with is_impossible and ExpMRC evidences", () => {
    const p = file(
      "squad.json",
      JSON.stringify({
        version: "v2.0",
        data: [
          {
            title: "Normans",
            paragraphs: [
              {
                context: "The Normans came from Normandy. Rollo led them.",
                qas: [
                  { id: "q1", question: "Who led them?", answers: [{ text: "Rollo", answer_start: 32 }, { text: "Rollo", answer_start: 32 }], evidences: ["Rollo led them."] },
                  { id: "q2", question: "Who led the Danes?", answers: [], is_impossible: true },
                ],
              },
            ],
          },
        ],
      }),
    );
    const d = readQaDataset(p);
    assert.equal(d.format, "squad-json");
    assert.deepEqual(d.items[0], { id: "q1", question: "Who led them?", answers: ["Rollo"], answerable: true, goldPassages: ["Normans#0"], evidences: ["Rollo led them."] });
    assert.equal(d.items[1]?.answerable, false);
    assert.deepEqual(d.passages, [{ id: "Normans#0", title: "Normans", text: "The Normans came from Normandy. Rollo led them." }]);
  });

  it("refuses an answerable SQuAD question without answers, naming it", () => {
    const p = file("squad-nogold.json", JSON.stringify({ data: [{ title: "T", paragraphs: [{ context: "c", qas: [{ id: "q9", question: "?", answers: [] }] }] }] }));
    fails(() => readQaDataset(p), /question "q9" \(data\[0\]\.paragraphs\[0\]\.qas\[0\]\) has no gold answers/);
  });

  it("reads the folder layout and checks passage ids", () => {
    const f = join(dir, "folder");
    mkdirSync(f);
    writeFileSync(join(f, "corpus.jsonl"), `{"_id": "T#0", "title": "T", "text": "Rollo led them."}\n`);
    writeFileSync(join(f, "questions.jsonl"), `{"id": "q1", "question": "Who?", "answers": ["Rollo"], "passage_id": "T#0"}\n`);
    writeFileSync(join(f, "unanswerable.jsonl"), `{"id": "u1", "question": "Why?", "passage_id": "T#0"}\n`);
    const d = readQaDataset(f);
    assert.deepEqual(
      d.items.map((i) => [i.id, i.answerable]),
      [
        ["q1", true],
        ["u1", false],
      ],
    );
    writeFileSync(join(f, "questions.jsonl"), `{"id": "q1", "question": "Who?", "answers": ["Rollo"], "passage_id": "T#0"}\n{"id": "q2", "question": "Who?", "passage_id": "T#0"}\n`);
    fails(() => readQaDataset(f), /questions\.jsonl line 2: field "answers" is missing or empty/);
    writeFileSync(join(f, "questions.jsonl"), `{"id": "q1", "question": "Who?", "answers": ["Rollo"], "passage_id": "T#9"}\n`);
    fails(() => readQaDataset(f), /questions\.jsonl line 1: field "passage_id" names "T#9"/);
  });

  it("says what it cannot read", () => {
    fails(() => readQaDataset(join(dir, "missing.jsonl")), /dataset not found/);
    fails(() => readQaDataset(file("x.txt", "hi")), /cannot tell the format/);
    fails(() => readQaDataset(file("broken.json", "{")), /broken\.json: not valid JSON/);
  });
});
