import type { Command } from "commander";
import { KnowledgeBase, type EmbedReport } from "../../knowledge/knowledge-base.js";
import { createEmbeddingModel } from "../../model/registry.js";
import type { EmbeddingModel } from "../../model/types.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parsePositiveInt, requireKb } from "../options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface EmbedFlags {
  kb?: string;
  model?: string;
  batch?: string;
  rebuild?: boolean;
  json?: boolean;
}

/** Runs `use` with the embedding model a reference names, closing it afterwards (ingest, search, embed). */
export async function withEmbeddingModel<T>(ref: string, use: (model: EmbeddingModel) => Promise<T>): Promise<T> {
  const model = await createEmbeddingModel(ref, providerOptions());
  try {
    return await use(model);
  } finally {
    await model.close();
  }
}

export function describeEmbedReport(r: EmbedReport): string {
  return `embedded ${r.embedded} chunks with ${r.modelId} (${r.dimensions} dimensions); ${r.vectors} of ${r.chunks} chunks have vectors`;
}

export function registerEmbed(program: Command): void {
  program
    .command("embed")
    .description("give every chunk of a knowledge base a vector from an embedding model (for --mode dense|hybrid search); only chunks without one are embedded, so a stopped run continues where it stopped")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--model <ref>", "embedding model, e.g. openai:http://127.0.0.1:11434/v1#nomic-embed-text or gguf:./models/embed.gguf")
    .option("--batch <n>", "chunks per model call and per transaction (default 32)")
    .option("--rebuild", "drop this model's vectors and embed every chunk again (after the model behind the reference changed)")
    .option("--json", "print one JSON document: {modelId, dimensions, embedded, vectors, chunks}")
    .addHelpText(
      "after",
      "\nVectors are kept per model reference; search with the same reference:\n  strata search \"night tours\" --kb ./kb --mode hybrid --embed <ref>\n\nExample:\n  strata embed --kb ./kb --model openai:http://127.0.0.1:11434/v1#nomic-embed-text",
    )
    .action(withCommand(async (flags: EmbedFlags, ctx: CommandContext) => {
      const kbDir = requireKb(flags.kb);
      if (!flags.model) throw usageError("--model <ref> is required", "name the embedding model, e.g. --model openai:http://127.0.0.1:11434/v1#nomic-embed-text");
      const batch = parsePositiveInt("--batch", flags.batch, 32, 10_000);
      const kb = KnowledgeBase.open(kbDir, {});
      const progress = progressDisplay({ quiet: false });
      try {
        const report = await withEmbeddingModel(flags.model, (model) =>
          kb.embed(model, { batch, rebuild: flags.rebuild, signal: ctx.signal, onProgress: progress.listener }),
        );
        progress.stop();
        if (flags.json) ctx.printJson(report);
        else process.stdout.write(describeEmbedReport(report) + "\n");
        return 0;
      } finally {
        progress.stop();
        kb.close();
      }
    }));
}
