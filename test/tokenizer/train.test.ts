import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isStrataError } from "../../src/core/errors.js";
import type { ProgressEvent } from "../../src/core/events.js";
import { pretokenize } from "../../src/tokenizer/pretokenize.js";
import { trainTokenizer, trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { sharedData, tempDir } from "../helpers/paths.js";
import { int, randomText, rng } from "./helpers/random-text.js";

// Sennrich et al.'s toy corpus. Pre-tokenised: "low" ×1, " low" ×4, " lower" ×2, " newest" ×6,
// " widest" ×3. Pair counts: e s 9, s t 9, w e 8, l o 7, o w 7, then 6s. Worked by hand:
//  1. e+s (9; ties with s+t, and (e,s) < (s,t) by id)   → " newest" = Ġ n e w es t
//  2. es+t (9)                                         → est
//  3. l+o (7; ties with o+w, l < o)   4. lo+w (7)      → low
//  5. Ġ+n (6; the smallest of the 6s: Ġ=32, n=110, low=259)
//  6. Ġ+low (6)   7. e+w (6)   8. Ġn+ew (6)   9. Ġnew+est (6)
const TOY = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";

test("training on a toy corpus learns the hand-checked first merges", async () => {
  const { tokenizer, stats } = await trainTokenizerFromTexts([TOY], { vocabSize: 256 + 9 + 5 });
  const learned = tokenizer.merges.map(([a, b]) => tokenizer.tokenText(a) + "+" + tokenizer.tokenText(b));
  assert.deepEqual(learned, ["e+s", "es+t", "l+o", "lo+w", "Ġ+n", "Ġ+low", "e+w", "Ġn+ew", "Ġnew+est"]);
  assert.equal(tokenizer.tokenText(256), "es");
  assert.equal(tokenizer.tokenText(264), "Ġnewest");
  assert.deepEqual(tokenizer.encode(" newest"), [264]);
  assert.deepEqual(tokenizer.encode("lowest").map((id) => tokenizer.tokenText(id)), ["low", "est"]);
  assert.equal(stats.words, 16);
  assert.equal(stats.distinctWords, 5);
  assert.equal(stats.learnedTokens, 9);
  assert.equal(tokenizer.vocabSize, 256 + 9 + 5);
});

test("training is deterministic and does not depend on how the file is chunked", async () => {
  const dir = tempDir();
  const r = rng(99);
  const text = Array.from({ length: 300 }, () => randomText(r, 10)).join("\n") + " the end";
  const file = join(dir, "mixed.txt");
  writeFileSync(file, text);
  const a = await trainTokenizer([file], { vocabSize: 700, minPairCount: 1, whenDataRunsOut: "stop" });
  const b = await trainTokenizer([file], { vocabSize: 700, minPairCount: 1, whenDataRunsOut: "stop" });
  // 7-byte reads cut multi-byte characters and words everywhere.
  const c = await trainTokenizer([file], { vocabSize: 700, minPairCount: 1, whenDataRunsOut: "stop", chunkBytes: 7 });
  const d = await trainTokenizerFromTexts([text], { vocabSize: 700, minPairCount: 1, whenDataRunsOut: "stop" });
  assert.ok(a.tokenizer.merges.length > 300, `only ${a.tokenizer.merges.length} merges`);
  assert.deepEqual(b.tokenizer.merges, a.tokenizer.merges);
  assert.deepEqual(c.tokenizer.merges, a.tokenizer.merges);
  assert.deepEqual(d.tokenizer.merges, a.tokenizer.merges);
  assert.deepEqual(c.stats, a.stats);
  assert.equal(a.tokenizer.decode(a.tokenizer.encode(text)), text);
});

test("the incremental merge loop matches a from-scratch recount at every step (seeded corpora)", async () => {
  // Reference trainer: tokens are byte strings (one char per byte); after each merge, every pair of
  // every word is counted again. Slow and obviously right. Same rules: most frequent pair, ties to
  // the smaller (left id, right id), a pair must occur twice, equal bytes are the same token.
  const reference = (words: Map<string, number>): string[] => {
    const latin1 = (w: string) => String.fromCharCode(...new TextEncoder().encode(w));
    const seqs = [...words].map(([w, n]) => ({ s: [...latin1(w)], n }));
    const ids = new Map<string, number>(Array.from({ length: 256 }, (_, b) => [String.fromCharCode(b), b]));
    const merges: string[] = [];
    for (;;) {
      const counts = new Map<string, { x: string; y: string; n: number }>();
      for (const { s, n } of seqs) {
        for (let i = 0; i + 1 < s.length; i++) {
          const k = JSON.stringify([s[i], s[i + 1]]);
          const c = counts.get(k) ?? { x: s[i]!, y: s[i + 1]!, n: 0 };
          c.n += n;
          counts.set(k, c);
        }
      }
      const order = (p: { x: string; y: string; n: number }) => [-p.n, ids.get(p.x)!, ids.get(p.y)!];
      const best = [...counts.values()].filter((p) => p.n >= 2).sort((p, q) => {
        const [a, b] = [order(p), order(q)];
        return a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      })[0];
      if (!best) return merges;
      const joined = best.x + best.y;
      if (!ids.has(joined)) ids.set(joined, ids.size);
      merges.push(`${best.x}|${best.y}`);
      for (const q of seqs) {
        const t: string[] = [];
        for (let i = 0; i < q.s.length; i++) {
          if (i + 1 < q.s.length && q.s[i] === best.x && q.s[i + 1] === best.y) {
            t.push(joined);
            i++;
          } else t.push(q.s[i]!);
        }
        q.s = t;
      }
    }
  };
  for (const seed of [1, 2, 3]) {
    const r = rng(seed);
    const alphabet = ["a", "b", "c", "aa", "ab", " ", "é", "\n"];
    const texts = Array.from({ length: 60 }, () => Array.from({ length: int(r, 1, 30) }, () => alphabet[int(r, 0, alphabet.length - 1)]).join(""));
    const { tokenizer } = await trainTokenizerFromTexts(texts, { vocabSize: 2000, whenDataRunsOut: "stop" });
    const words = new Map<string, number>();
    for (const t of texts) for (const w of pretokenize(t)) words.set(w, (words.get(w) ?? 0) + 1);
    const latin1 = (id: number) => String.fromCharCode(...tokenizer.tokenBytes(id));
    const ours = tokenizer.merges.map(([a, b]) => `${latin1(a)}|${latin1(b)}`);
    assert.ok(ours.length > 30);
    assert.deepEqual(ours, reference(words), `seed ${seed}`);
  }
});

test("a vocabulary larger than the data supports is an error naming the size it does support", async () => {
  await assert.rejects(
    trainTokenizerFromTexts([TOY], { vocabSize: 1000 }),
    (e: unknown) => isStrataError(e) && e.code === "VOCAB_TOO_LARGE" && /supports at most \d+ tokens/.test(e.message) && /vocabulary of \d+ or less/.test(e.hint),
  );
  // Or, when asked, a smaller tokenizer and a warning.
  const { tokenizer, stats, warnings } = await trainTokenizerFromTexts([TOY], { vocabSize: 1000, whenDataRunsOut: "stop" });
  assert.equal(stats.stoppedEarly, true);
  assert.equal(warnings.length, 1);
  const supported = Number(/at most (\d+)/.exec(warnings[0]!)![1]);
  assert.equal(tokenizer.vocabSize, supported);
  assert.ok(supported < 1000 && supported > 256 + 9 + 5);
  // That exact size trains without complaint.
  const exact = await trainTokenizerFromTexts([TOY], { vocabSize: supported });
  assert.deepEqual(exact.tokenizer.merges, tokenizer.merges);
});

test("a vocabulary too small for the bytes and special tokens is a usage error", async () => {
  await assert.rejects(trainTokenizerFromTexts([TOY], { vocabSize: 260 }), (e: unknown) => isStrataError(e) && e.code === "USAGE" && /261/.test(e.hint));
});

test("bad training files: missing, empty, not UTF-8, cut inside a character — each named", async () => {
  const dir = tempDir();
  const good = join(dir, "good.txt");
  writeFileSync(good, TOY);
  const cases: [string, Uint8Array | undefined, string, RegExp][] = [
    ["missing.txt", undefined, "NOT_FOUND", /missing\.txt does not exist/],
    ["empty.txt", new Uint8Array(0), "EMPTY_FILE", /empty\.txt is empty/],
    ["latin1.txt", Uint8Array.from([...Buffer.from("caf"), 0xe9, ...Buffer.from(" au lait")]), "INVALID_UTF8", /latin1\.txt is not UTF-8 text \(byte 0xe9 at offset 3/],
    ["cut.txt", Uint8Array.from([...Buffer.from("price: "), 0xe2, 0x82]), "INVALID_UTF8", /cut\.txt .*offset 7 starts a character the file cuts short/],
  ];
  for (const [name, bytes, code, message] of cases) {
    const path = join(dir, name);
    if (bytes) writeFileSync(path, bytes);
    await assert.rejects(trainTokenizer([good, path], { vocabSize: 270 }), (e: unknown) => {
      assert.ok(isStrataError(e), String(e));
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.ok(e.message.includes(path), e.message);
      assert.ok(e.hint.length > 0);
      return true;
    });
  }
  // Invalid bytes far into a file are found at their offset, across read boundaries.
  const late = join(dir, "late.txt");
  writeFileSync(late, Buffer.concat([Buffer.from("é".repeat(5000)), Buffer.from([0xc3, 0x28])]));
  await assert.rejects(trainTokenizer([late], { vocabSize: 270, chunkBytes: 1000 }), /offset 10000/);
});

test("a byte-order mark is not learned as text", async () => {
  const dir = tempDir();
  const file = join(dir, "bom.txt");
  writeFileSync(file, "\ufeff" + TOY);
  const { tokenizer, stats } = await trainTokenizer([file], { vocabSize: 256 + 9 + 5 });
  assert.equal(stats.bytes, Buffer.byteLength(TOY) + 3);
  assert.equal(stats.distinctWords, 5);
  assert.equal(tokenizer.tokenText(264), "Ġnewest");
});

test("training reports progress and stops when aborted", async () => {
  const dir = tempDir();
  const file = join(dir, "t.txt");
  const r = rng(5);
  writeFileSync(file, Array.from({ length: 2000 }, () => randomText(r, 8)).join(" "));
  const size = readFileSync(file).length;
  const events: ProgressEvent[] = [];
  const { stats } = await trainTokenizer([file], { vocabSize: 600, chunkBytes: 4096, whenDataRunsOut: "stop", onProgress: (e) => events.push(e) });
  const reads = events.filter((e) => e.phase === "tokenizer:read");
  assert.ok(reads.length > 3);
  assert.deepEqual(reads.at(-1), { phase: "tokenizer:read", done: size, total: size, item: file });
  const merges = events.filter((e) => e.phase === "tokenizer:merge");
  assert.equal(merges[0]!.done, 0);
  assert.equal(merges.at(-1)!.done, stats.learnedTokens);
  assert.equal(merges.at(-1)!.total, 600 - 256 - 5);

  const before = new AbortController();
  before.abort();
  await assert.rejects(trainTokenizer([file], { vocabSize: 600, signal: before.signal }), (e: unknown) => isStrataError(e) && e.code === "ABORTED");
  const during = new AbortController();
  await assert.rejects(
    trainTokenizer([file], {
      vocabSize: 600,
      signal: during.signal,
      onProgress: (e) => {
        if (e.phase === "tokenizer:merge") during.abort();
      },
    }),
    (e: unknown) => isStrataError(e) && e.code === "ABORTED",
  );
});

test("tinyshakespeare: trains, compresses, and round-trips the whole text", async (t) => {
  const file = sharedData("tinyshakespeare", "input.txt");
  if (!file) {
    t.skip("../shared/data/tinyshakespeare/input.txt is absent");
    return;
  }
  const { tokenizer, stats } = await trainTokenizer([file], { vocabSize: 1024 });
  assert.equal(tokenizer.vocabSize, 1024);
  assert.equal(stats.learnedTokens, 1024 - 256 - 5);
  const text = readFileSync(file, "utf8");
  const ids = tokenizer.encode(text);
  const bytesPerToken = stats.bytes / ids.length;
  assert.ok(bytesPerToken > 2.2, `only ${bytesPerToken.toFixed(2)} bytes per token`);
  assert.equal(tokenizer.decode(ids), text);
  // The most frequent words of the play are single tokens.
  for (const w of [" the", " and", " to", " of"]) assert.equal(tokenizer.encode(w).length, 1, w);
});
