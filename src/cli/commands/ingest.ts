import type { Command } from "commander";
import { DEFAULT_MAX_BYTES } from "../../knowledge/loaders/read-source.js";
import { KnowledgeBase, type EmbedReport } from "../../knowledge/knowledge-base.js";
import { createEmbeddingModel } from "../../model/registry.js";
import type { EmbeddingModel } from "../../model/types.js";
import { EXIT, usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseByteSize, parseList, requireKb } from "../options.js";
import { addParseLimitOptions, parseLimitsFromFlags, type ParseLimitFlags } from "../parse-limit-options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";
import { describeEmbedReport } from "./embed.js";

interface IngestFlags extends ParseLimitFlags {
  kb?: string;
  aclUsers?: string;
  aclGroups?: string;
  tags?: string;
  prune?: boolean;
  include?: string[];
  exclude?: string[];
  maxFileSize?: string;
  chunkSize?: string;
  chunkOverlap?: string;
  embed?: string;
  verbose?: boolean;
  json?: boolean;
}

export function registerIngest(program: Command): void {
  addParseLimitOptions(program
    .command("ingest"))
    .description("add files and folders to a knowledge base (re-ingest skips unchanged files and replaces changed ones)")
    .argument("<path...>", "files or folders (walked recursively)")
    .option("--kb <dir>", "knowledge-base folder (created when new or empty)")
    .option("--acl-users <users>", "only these users may read the documents (comma-separated)")
    .option("--acl-groups <groups>", "only members of these groups may read the documents (comma-separated)")
    .option("--tags <tags>", "tags to filter searches by (comma-separated)")
    .option("--prune", "remove documents whose source file is gone")
    .option("--include <glob...>", "only files matching these globs")
    .option("--exclude <glob...>", "skip files matching these globs")
    .option("--max-file-size <size>", `largest file to read (default ${DEFAULT_MAX_BYTES / 1024 ** 2}MB)`)
    .option("--chunk-size <chars>", "largest chunk in characters (default 1200)")
    .option("--chunk-overlap <chars>", "characters repeated between chunks (default 150)")
    .option("--embed <ref>", "then embed the chunks that have no vector for this embedding model (see `strata embed`)")
    .option("--verbose", "list every skipped file with the reason")
    .option("--json", "print one JSON document: {added, updated, unchanged, removed, failed, skipped, embedding?}")
    .addHelpText("after", "\nExample:\n  strata ingest ./docs ./handbook.pdf --kb ./kb --acl-groups staff --tags handbook\n  strata ingest ./docs --kb ./kb --embed openai:http://127.0.0.1:11434/v1#nomic-embed-text\n\nExit codes: 0 all ingested, 3 some sources failed (the rest were ingested), 2 usage error, 1 error.")
    .action(withCommand(async (paths: string[], flags: IngestFlags, ctx: CommandContext) => {
      const kbDir = requireKb(flags.kb);
      const limits = parseLimitsFromFlags(flags);
      const chunkSize = flags.chunkSize === undefined ? undefined : Number(flags.chunkSize);
      const chunkOverlap = flags.chunkOverlap === undefined ? undefined : Number(flags.chunkOverlap);
      if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 100)) throw usageError(`--chunk-size must be a whole number ≥ 100, got "${flags.chunkSize}"`, "e.g. --chunk-size 1200");
      if (chunkOverlap !== undefined && (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= (chunkSize ?? 1200))) {
        throw usageError(`--chunk-overlap must be a whole number from 0 to below the chunk size, got "${flags.chunkOverlap}"`, "e.g. --chunk-overlap 150");
      }
      // The model is created first, so a wrong reference fails before any work is done.
      const model: EmbeddingModel | undefined = flags.embed ? await createEmbeddingModel(flags.embed, providerOptions()) : undefined;
      const progress = progressDisplay({ quiet: false });
      let kb: KnowledgeBase;
      try {
        // An older store is migrated here: its lexical index is built with progress.
        kb = await KnowledgeBase.openAt(kbDir, { create: true, onProgress: progress.listener, onNotice: (m) => process.stderr.write(`notice: ${m}\n`) });
      } catch (e) {
        progress.stop();
        await model?.close();
        throw e;
      }
      try {
        const report = await kb.ingest(paths, {
          acl: { users: parseList(flags.aclUsers), groups: parseList(flags.aclGroups) },
          tags: parseList(flags.tags),
          prune: flags.prune,
          include: flags.include,
          exclude: flags.exclude,
          maxBytes: parseByteSize("--max-file-size", flags.maxFileSize, DEFAULT_MAX_BYTES),
          limits,
          chunking: { ...(chunkSize !== undefined ? { maxChars: chunkSize } : {}), ...(chunkOverlap !== undefined ? { overlapChars: chunkOverlap } : {}) },
          signal: ctx.signal,
          onProgress: progress.listener,
        });
        // Embedding runs after every file is stored; a failed or cancelled embed keeps the ingest
        // and its finished batches, and `strata embed` completes it.
        const embedding: EmbedReport | undefined = model ? await kb.embed(model, { signal: ctx.signal, onProgress: progress.listener }) : undefined;
        progress.stop();
        for (const f of report.failed) process.stderr.write(`failed: ${f.source}: ${f.message}${f.hint ? ` (hint: ${f.hint})` : ""}\n`);
        if (flags.json) ctx.printJson(embedding ? { ...report, embedding } : report);
        else {
          const skipped = report.skipped ?? [];
          process.stdout.write(`added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged}, removed ${report.removed}, failed ${report.failed.length}, skipped ${skipped.length}\n`);
          if (flags.verbose) for (const s of skipped) process.stdout.write(`skipped: ${s.source}: ${s.reason}\n`);
          else if (skipped.length > 0) process.stdout.write(`(${skipped.length} files of unsupported types were skipped; --verbose lists them)\n`);
          if (embedding) process.stdout.write(describeEmbedReport(embedding) + "\n");
        }
        const anyOk = report.added + report.updated + report.unchanged + report.removed > 0;
        return report.failed.length === 0 ? EXIT.ok : anyOk ? EXIT.partial : EXIT.error;
      } finally {
        progress.stop();
        await kb.closeAsync();
        await model?.close();
      }
    }));
}
