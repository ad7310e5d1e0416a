// Fine-tuning datasets: every common shape reads into one record kind, and each bad record is
// refused naming its line and field.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseInstructionDataset, readInstructionDataset } from "../../src/formats/instruction-data.js";
import { isStrataError } from "../helpers/errors.js";
import { sharedData } from "../helpers/paths.js";

const jl = (...objs: unknown[]): string => objs.map((o) => (typeof o === "string" ? o : JSON.stringify(o))).join("\n") + "\n";

describe("instruction datasets", () => {
  test("chat, prompt/completion and Alpaca records become user/assistant conversations", () => {
    const ds = parseInstructionDataset(
      jl(
        { messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "Hi" }, { role: "assistant", content: "Hello." }] },
        "",
        { prompt: "2+2?", completion: "4" },
        { instruction: "Translate", input: "chat", output: "cat" },
        { instruction: "Say yes", input: "", output: "yes" },
      ),
      "d.jsonl",
    );
    assert.equal(ds.kind, "sft");
    assert.equal(ds.records.length, 4);
    assert.deepEqual(ds.records.map((r) => r.line), [1, 3, 4, 5]);
    const r = ds.records.map((x) => (x.kind === "sft" ? x.messages : []));
    assert.equal(r[0]!.length, 3);
    assert.deepEqual(r[1], [{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }]);
    assert.equal(r[2]![0]!.content, "Translate\n\nchat");
    assert.equal(r[3]![0]!.content, "Say yes");
  });

  test("preference pairs with a string prompt or messages", () => {
    const ds = parseInstructionDataset(
      jl({ prompt: "Q", chosen: "good", rejected: "bad" }, { messages: [{ role: "user", content: "Q2" }], chosen: [{ role: "assistant", content: "a" }], rejected: "b" }),
      "p.jsonl",
    );
    assert.equal(ds.kind, "preference");
    const [a, b] = ds.records;
    assert.ok(a?.kind === "preference" && b?.kind === "preference");
    assert.deepEqual(a.prompt, [{ role: "user", content: "Q" }]);
    assert.equal(b.chosen, "a");
  });

  test("bad lines are refused with their line number and field", () => {
    const cases: Array<[string, RegExp]> = [
      [jl({ prompt: "a", completion: "b" }, "{not json"), /line 2: not valid JSON/],
      [jl({ prompt: "a", completion: "b" }, { prompt: "a", completion: 3 }), /line 2: field completion/],
      [jl({ messages: [{ role: "user", content: "x" }] }), /line 1: field messages\.0\.role: the last message must be the assistant/],
      [jl({ messages: [{ role: "robot", content: "x" }, { role: "assistant", content: "y" }] }), /line 1: field messages\.0\.role/],
      [jl({ instruction: "a", output: "" }), /line 1: field output/],
      [jl({ foo: 1 }), /line 1: has none of the known fields/],
      [jl({ prompt: "a", completion: "b" }, { prompt: "q", chosen: "x", rejected: "y" }), /line 2: a preference pair in a file of supervised examples/],
      [jl({ prompt: "a", completion: "b" }, 7), /line 2: is not a JSON object/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseInstructionDataset(text, "d.jsonl"), isStrataError("DATASET_INVALID", re), String(re));
  });

  test("a pair whose chosen equals rejected is refused", () => {
    assert.throws(() => parseInstructionDataset(jl({ prompt: "q", chosen: "same", rejected: "same" }), "p.jsonl"), isStrataError("DATASET_INVALID", /line 1: field chosen equals field rejected/));
  });

  test("an empty file is DATASET_EMPTY", () => {
    assert.throws(() => parseInstructionDataset("\n\n", "e.jsonl"), isStrataError("DATASET_EMPTY", /no records/));
  });

  test("the shared Alpaca sample (a JSON array) reads whole", { skip: sharedData("instructions", "alpaca_data_1k.json") ? false : "no ../shared/data" }, async () => {
    const ds = await readInstructionDataset(sharedData("instructions", "alpaca_data_1k.json")!);
    assert.equal(ds.layout, "json-array");
    assert.equal(ds.records.length, 1000);
    assert.equal(ds.kind, "sft");
  });
});
