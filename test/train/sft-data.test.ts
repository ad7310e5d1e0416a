// Fine-tuning rows: the loss falls on the assistant's tokens only, over-long examples are truncated
// or dropped and counted, packing fills rows, and the split is deterministic.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseInstructionDataset } from "../../src/formats/instruction-data.js";
import { Tokenizer } from "../../src/tokenizer/index.js";
import { IGNORE, encodePreference, encodeSft, maskedConversation } from "../../src/train/sft-data.js";
import { isStrataError } from "../helpers/errors.js";

const tok = new Tokenizer({ merges: [] });
const jl = (...objs: unknown[]): string => objs.map((o) => JSON.stringify(o)).join("\n");

describe("SFT rows", () => {
  test("only the assistant's answer and its end-of-turn marker are trained", () => {
    const msgs = [{ role: "user" as const, content: "hi" }, { role: "assistant" as const, content: "yo" }];
    const { ids, trained } = maskedConversation(tok, msgs);
    const text = tok.decode(ids.filter((_, i) => trained[i]));
    assert.equal(text, "yo<|im_end|>\n");
    const prompt = tok.decode(ids.filter((_, i) => !trained[i]));
    assert.match(prompt, /user\nhi.*assistant\n$/s);
  });

  test("targets are the next tokens where trained and -100 elsewhere; padding is ignored", () => {
    const ds = parseInstructionDataset(jl({ prompt: "ab", completion: "cd" }, { prompt: "x", completion: "y" }), "d");
    const { train, val, summary } = encodeSft(ds.records, tok, { blockSize: 64, valFraction: 0.5, seed: 1 });
    assert.equal(train.length + val.length, 2);
    const row = [...train, ...val].find((r) => tok.decode([...r.ids].filter((x) => x !== 0)).includes("ab"))!;
    const scored = [...row.targets].filter((t) => t !== IGNORE);
    assert.equal(tok.decode(scored), "cd<|im_end|>\n");
    assert.equal(summary.trainedTokens, tok.encode("cd").length + tok.encode("y").length + 4);
  });

  test("over-long examples: truncated (kept while an answer token remains) or dropped, and counted", () => {
    const long = { prompt: "p", completion: "x".repeat(100) };
    const ds = parseInstructionDataset(jl(long, { prompt: "q".repeat(100), completion: "z" }, { prompt: "a", completion: "b" }), "d");
    const t = encodeSft(ds.records, tok, { blockSize: 32, valFraction: 0.3, seed: 1 });
    assert.equal(t.summary.truncated, 2);
    assert.equal(t.summary.droppedEmpty, 1);
    assert.equal(t.summary.train + t.summary.val, 2);
    const d = encodeSft(ds.records, tok, { blockSize: 32, overlong: "drop", valFraction: 0.3, seed: 1 });
    assert.equal(d.summary.droppedOverlong, 2);
    assert.equal(d.summary.train + d.summary.val, 1);
  });

  test("nothing left after filtering is DATASET_EMPTY", () => {
    const ds = parseInstructionDataset(jl({ prompt: "q".repeat(100), completion: "z" }), "d");
    assert.throws(() => encodeSft(ds.records, tok, { blockSize: 16, valFraction: 0.1, seed: 1 }), isStrataError("DATASET_EMPTY", /no example is left/));
  });

  test("packing lays examples end to end: fewer rows, same trained tokens", () => {
    const recs = Array.from({ length: 10 }, (_, i) => ({ prompt: `q${i}`, completion: `a${i}` }));
    const ds = parseInstructionDataset(jl(...recs), "d");
    const plain = encodeSft(ds.records, tok, { blockSize: 64, valFraction: 0.2, seed: 3 });
    const packed = encodeSft(ds.records, tok, { blockSize: 64, valFraction: 0.2, seed: 3, pack: true });
    assert.equal(plain.train.length, 8);
    assert.ok(packed.train.length < plain.train.length, `${packed.train.length} packed rows`);
    const count = (rows: typeof plain.train): number => rows.reduce((n, r) => n + r.targets.filter((t) => t !== IGNORE).length, 0);
    // Packing loses at most the one token at each row boundary.
    assert.ok(count(packed.train) >= count(plain.train) - packed.train.length && count(packed.train) <= count(plain.train));
  });

  test("preference pairs become chosen/rejected rows that share the prompt", () => {
    const ds = parseInstructionDataset(jl({ prompt: "q", chosen: "good", rejected: "bad" }, { prompt: "r", chosen: "yes", rejected: "no" }), "p");
    const { train, val } = encodePreference(ds.records, tok, { blockSize: 32, valFraction: 0.5, seed: 1 });
    assert.equal(train.length, 1);
    assert.equal(val.length, 1);
    const [c, r] = train[0]!;
    const firstScored = (row: typeof c): number => row.targets.findIndex((t) => t !== IGNORE);
    assert.equal(firstScored(c), firstScored(r));
    assert.deepEqual([...c.ids.slice(0, firstScored(c) + 1)], [...r.ids.slice(0, firstScored(r) + 1)]);
  });
});
