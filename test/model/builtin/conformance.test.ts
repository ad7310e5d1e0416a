// The LanguageModel contract (test/model/conformance.ts) on the builtin engine: a tiny llama trained
// here for a few dozen steps on a short text, so its greedy answers are text, not noise.
import { BuiltinLanguageModel } from "../../../src/model/providers/builtin/index.js";
import { languageModelConformance } from "../conformance.js";
import { tinyTrainedLlama } from "./helpers.js";

languageModelConformance("builtin", async () => {
  const trained = await tinyTrainedLlama();
  const make = () => new BuiltinLanguageModel(trained.model, trained.tokenizer, { name: "tiny" });
  return { model: make(), another: async () => make(), prompts: ["ROMEO:", "JULIET:", "The quick brown fox"] };
});
