// The model a fine-tuning run starts from: a training run's checkpoint (a LoRA run's adapter is
// merged into its base first) or a llama/qwen2 GGUF file, dequantized to float32 by the importer.
// Either way the tokenizer must be Strata's own (what `strata export gguf` writes), because the run
// saves it as tokenizer.json; a file's foreign vocabulary is refused with that reason.
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { StrataError } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import { readCheckpoint } from "../formats/checkpoint.js";
import { importLlamaGguf } from "../formats/gguf/index.js";
import { Llama, type LlamaConfig, type StateDict, loadLora } from "../nn/index.js";
import type { Tokenizer } from "../tokenizer/index.js";

export interface FinetuneBase {
  config: LlamaConfig;
  stateDict: StateDict;
  tokenizer: Tokenizer;
  /** Where it came from, for run.json and the chart. */
  source: string;
  kind: "run" | "gguf";
}

/** Reads the base from a run directory or a GGUF file (a `builtin:` or `gguf:` prefix is accepted). */
export async function loadFinetuneBase(ref: string, opts: LongOperationOptions = {}): Promise<FinetuneBase> {
  const target = ref.replace(/^(builtin|gguf):/, "").replace(/#.*$/, "");
  const path = resolve(target);
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new StrataError("NOT_FOUND", `base model ${target} does not exist`, "pass --base builtin:<run dir> or --base gguf:<file.gguf>");
  }
  if (st.isDirectory()) {
    const ck = await readCheckpoint(path);
    let stateDict = ck.stateDict;
    if (ck.adapter) {
      const model = new Llama(ck.run.model, { seed: 0 });
      model.loadStateDict(stateDict);
      stateDict = loadLora(model, ck.adapter.tensors, Number(ck.adapter.metadata["lora.alpha"])).mergedStateDict(stateDict);
    }
    return { config: ck.run.model, stateDict, tokenizer: ck.tokenizer, source: `${path}@step-${ck.step}`, kind: "run" };
  }
  const imported = await importLlamaGguf(path, { ...opts, tokenizer: "optional" });
  if (!imported.tokenizer) {
    throw new StrataError(
      "UNSUPPORTED_TYPE",
      `${basename(path)}: its vocabulary (${imported.tokenizerError ? imported.tokenizerError.message : "a SentencePiece or GPT-2 vocabulary"}) is not laid out as Strata's tokenizer, which fine-tuning runs save`,
      "fine-tune a GGUF that Strata exported (strata export gguf), or a Strata run directory; foreign vocabularies run with builtin:/gguf: but cannot be fine-tuned yet",
    );
  }
  return { config: imported.config, stateDict: imported.stateDict, tokenizer: imported.tokenizer, source: path, kind: "gguf" };
}
