import { resolveSettings } from "./dist/src/model/providers/llamacpp/options.js";
import { providerOptions } from "./dist/src/cli/model-options.js";
console.log(resolveSettings("gguf:/tmp/rough/tiny-q8.gguf", providerOptions()));
