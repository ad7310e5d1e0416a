// The LanguageModel contract (test/model/conformance.ts) on llama.cpp: a tiny random-weight GGUF
// written here, loaded through node-llama-cpp with one thread.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLlamaCppLanguageModel } from "../../../src/model/providers/llamacpp/index.js";
import { tempDir } from "../../helpers/paths.js";
import { writeTinyLlamaGguf } from "../../helpers/tiny-llama.js";
import { languageModelConformance } from "../conformance.js";

languageModelConformance("llamacpp", async () => {
  const dir = tempDir();
  const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1 });
  const make = () => createLlamaCppLanguageModel(`gguf:${tiny.path}`, { threads: 1 });
  return { model: await make(), another: make, prompts: ["Tell me more", "Hello", "Go on and on"], dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});
