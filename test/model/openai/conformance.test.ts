// The LanguageModel contract (test/model/conformance.ts) on the OpenAI-compatible provider, over a
// real HTTP server: Strata's own /v1 (createStrataServer on a loopback port) serving the builtin
// engine's tiny trained llama. So the client's stream, abort and close meet a real server's SSE,
// and the server's cancellation reaches the engine behind it.
import { rmSync } from "node:fs";
import { BuiltinLanguageModel } from "../../../src/model/providers/builtin/index.js";
import { createOpenAiLanguageModel } from "../../../src/model/providers/openai/index.js";
import { createStrataServer } from "../../../src/server/index.js";
import { tempDir } from "../../helpers/paths.js";
import { tinyTrainedLlama } from "../builtin/helpers.js";
import { languageModelConformance } from "../conformance.js";

languageModelConformance("openai (Strata's /v1 serving the builtin engine)", async () => {
  const trained = await tinyTrainedLlama();
  const engine = new BuiltinLanguageModel(trained.model, trained.tokenizer, { name: "tiny" });
  const dataDir = tempDir("strata-conformance-");
  const adminKey = "conformance-admin-key-0123456789";
  const server = await createStrataServer({ dataDir, adminKey, logger: false, webRoot: dataDir, rateLimit: false, languageModels: [{ id: "tiny", model: engine }] });
  const url = await server.listen({ port: 0, host: "127.0.0.1" });
  const make = () => createOpenAiLanguageModel(`openai:${url}/v1#tiny`, { apiKey: adminKey, maxRetries: 0 });
  return {
    model: await make(),
    another: make,
    prompts: ["ROMEO:", "JULIET:", "The quick brown fox"],
    dispose: async () => {
      await server.close();
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
