import type { Command } from "commander";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { requireKb } from "../options.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface IndexFlags {
  kb?: string;
  json?: boolean;
}

/** Opens the knowledge base with progress for a migration's index build, runs `work`, closes it. */
async function withKb<T>(flags: IndexFlags, work: (kb: KnowledgeBase, progress: ReturnType<typeof progressDisplay>) => T): Promise<T> {
  const progress = progressDisplay({ quiet: false });
  let kb: KnowledgeBase | undefined;
  try {
    kb = KnowledgeBase.open(requireKb(flags.kb), { onProgress: progress.listener });
    return work(kb, progress);
  } finally {
    progress.stop();
    kb?.close();
  }
}

export function registerIndex(program: Command): void {
  const index = program
    .command("index")
    .description("maintain a knowledge base's lexical index (segments of postings built from the stored chunks)")
    .addHelpText("after", "\nExample:\n  strata index check --kb ./kb && strata index rebuild --kb ./kb");
  index
    .command("rebuild")
    .description("rebuild the lexical index from the stored chunks (after damage, or to compact it); documents and chunks are not touched")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--json", "print one JSON document: {chunks, segments, ms}")
    .addHelpText("after", "\nExample:\n  strata index rebuild --kb ./kb")
    .action(withCommand(async (flags: IndexFlags, ctx: CommandContext) =>
      withKb(flags, (kb, progress) => {
        const t0 = performance.now();
        kb.store.index.rebuild(progress.listener);
        const out = { chunks: kb.store.chunkCount(), segments: kb.store.index.listSegments().length, ms: Math.round(performance.now() - t0) };
        if (flags.json) ctx.printJson(out);
        else process.stdout.write(`rebuilt the lexical index of ${out.chunks} chunks (${out.segments} segment${out.segments === 1 ? "" : "s"}) in ${out.ms} ms\n`);
        return 0;
      }),
    ));
  index
    .command("check")
    .description("recount every posting from the stored chunks and compare with the index; exit 1 if they differ")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--json", "print one JSON document: {chunks, postings, segments, problems}")
    .addHelpText("after", "\nExample:\n  strata index check --kb ./kb --json")
    .action(withCommand(async (flags: IndexFlags, ctx: CommandContext) =>
      withKb(flags, (kb) => {
        const r = kb.store.index.check();
        const out = { ...r, segments: kb.store.index.listSegments().length };
        if (flags.json) ctx.printJson(out);
        else {
          process.stdout.write(`${out.chunks} chunks, ${out.postings} postings in ${out.segments} segments: ${r.problems.length === 0 ? "the index agrees with the chunks" : "problems:"}\n`);
          for (const p of r.problems) process.stdout.write(`  ${p}\n`);
          if (r.problems.length > 0) process.stdout.write(`fix: strata index rebuild --kb ${flags.kb}\n`);
        }
        return r.problems.length === 0 ? 0 : 1;
      }),
    ));
  index
    .command("optimize")
    .description("merge every segment into one (faster search after heavy updates; readers keep answering meanwhile)")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--json", "print one JSON document: {merges, segments}")
    .addHelpText("after", "\nExample:\n  strata index optimize --kb ./kb")
    .action(withCommand(async (flags: IndexFlags, ctx: CommandContext) =>
      withKb(flags, (kb) => {
        const merges = kb.store.index.mergeDue({ all: true });
        const out = { merges, segments: kb.store.index.listSegments().length };
        if (flags.json) ctx.printJson(out);
        else process.stdout.write(`${merges} merge${merges === 1 ? "" : "s"}; ${out.segments} segment${out.segments === 1 ? "" : "s"} now\n`);
        return 0;
      }),
    ));
}
