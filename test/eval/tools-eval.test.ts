// `eval tools` end to end over HTTP: a scripted model answers BFCL parallel questions with native
// tool calls (in swapped order, and once wrongly); the AST checker scores them order-free.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readBfcl } from "../../src/eval/bfcl.js";
import type { StoredItem } from "../../src/eval/run-store.js";
import { runToolsEval, summarizeTools } from "../../src/eval/tools-eval.js";
import { createLanguageModel } from "../../src/model/registry.js";
import type { LanguageModel } from "../../src/model/types.js";
import { replyToolCalls, sequence, startOpenAiServer, type OpenAiServer } from "../helpers/openai-server.js";
import { tempDir } from "../helpers/paths.js";

let server: OpenAiServer;
let model: LanguageModel;
before(async () => {
  server = await startOpenAiServer(
    sequence(
      replyToolCalls([
        { name: "spotify_play", args: { artist: "Maroon 5", duration: 15 } },
        { name: "spotify_play", args: { artist: "Taylor Swift", duration: 20 } },
      ]),
      replyToolCalls([{ name: "spotify_play", args: { artist: "Adele", duration: 99 } }]),
    ),
  );
  model = await createLanguageModel(server.ref("m"), { apiKey: "k" });
});
after(async () => {
  await model.close();
  await server.close();
});

test("parallel calls in any order pass; a wrong value fails with its reason; the tools are sent", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "possible_answer"));
  const play = { name: "spotify.play", description: "play", parameters: { type: "dict", properties: { artist: { type: "string" }, duration: { type: "integer" } }, required: ["artist", "duration"] } };
  const q = (id: string, text: string): string => JSON.stringify({ id, question: [[{ role: "user", content: text }]], function: [play] });
  writeFileSync(join(dir, "BFCL_v4_parallel.json"), [q("parallel_0", "Taylor Swift 20 min and Maroon 5 15 min"), q("parallel_1", "Adele 5 min")].join("\n"));
  writeFileSync(
    join(dir, "possible_answer", "BFCL_v4_parallel.json"),
    [
      JSON.stringify({ id: "parallel_0", ground_truth: [{ "spotify.play": { artist: ["Taylor Swift"], duration: [20] } }, { "spotify.play": { artist: ["Maroon 5"], duration: [15] } }] }),
      JSON.stringify({ id: "parallel_1", ground_truth: [{ "spotify.play": { artist: ["Adele"], duration: [5] } }] }),
    ].join("\n"),
  );
  const items: StoredItem[] = [];
  await runToolsEval(readBfcl(join(dir, "BFCL_v4_parallel.json")), model, { onItem: (i) => items.push(i) });
  assert.deepEqual(items.map((i) => i.metrics.correct), [1, 0]);
  assert.equal(items[1]?.detail.verdict, "wrong_value");
  assert.equal(server.requests[0]?.body.tools?.[0]?.function.name, "spotify_play");
  const s = summarizeTools(items);
  assert.equal(s.accuracy, 0.5);
  assert.equal(s.accuracy_parallel, 0.5);
  assert.equal(s.failed_wrong_value, 1);
});
