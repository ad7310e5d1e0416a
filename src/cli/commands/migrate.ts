import type { Command } from "commander";
import { KnowledgeStore } from "../../knowledge/store/sqlite-store.js";
import { storeLocation } from "../../knowledge/store/location.js";
import type { PgKnowledgeStore } from "../../knowledge/store/postgres/pg-store.js";
import { usageError } from "../errors.js";
import { progressDisplay } from "../progress.js";
import { type CommandContext, withCommand } from "../run.js";

interface MigrateFlags {
  from?: string;
  to?: string;
  json?: boolean;
}

const HELP = `
Copies an embedded knowledge base (a folder) into an empty PostgreSQL one: documents with their
ids, versions, chunks, ACLs and tags, vectors, conversations, traces and settings. Then compares
counts and the top 5 of a sample of searches on both sides; exit 1 if they differ.

Example:
  strata migrate --from ./kb --to postgres://strata@db.internal/kbs?schema=handbook`;

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("copy a knowledge base from a folder into PostgreSQL, then verify the copy")
    .option("--from <dir>", "knowledge-base folder to copy")
    .option("--to <url>", "postgres:// URL of an empty database or schema")
    .option("--json", "print one JSON document: {copied: {...}, check: {ok, problems, sampled}}")
    .addHelpText("after", HELP)
    .action(withCommand(async (flags: MigrateFlags, ctx: CommandContext) => {
      if (!flags.from || !flags.to) throw usageError("--from <dir> and --to <url> are required", "e.g. strata migrate --from ./kb --to postgres://user@host/db");
      if (storeLocation(flags.from).kind !== "folder") throw usageError("--from takes a knowledge-base folder", "copying from PostgreSQL back to a folder is not available yet");
      if (storeLocation(flags.to).kind !== "postgres") throw usageError("--to takes a postgres:// URL", "e.g. --to postgres://user@host/db?schema=kb");
      // Loaded here, not at startup: other commands never load the PostgreSQL client.
      const { PgKnowledgeStore } = await import("../../knowledge/store/postgres/pg-store.js");
      const { copyToPostgres, verifyCopy } = await import("../../knowledge/store/postgres/copy-from-sqlite.js");
      const from = KnowledgeStore.open(flags.from, { readonly: true });
      const progress = progressDisplay({ quiet: false });
      let to: PgKnowledgeStore | undefined;
      try {
        to = await PgKnowledgeStore.open(flags.to, { create: true, onNotice: (m) => process.stderr.write(`notice: ${m}\n`) });
        const copied = await copyToPostgres(from, to, { signal: ctx.signal, onProgress: progress.listener });
        const check = await verifyCopy(from, to);
        progress.stop();
        if (flags.json) ctx.printJson({ copied, check });
        else {
          process.stdout.write(`copied ${copied.documents} documents, ${copied.chunks} chunks, ${Object.values(copied.vectors).reduce((a, b) => a + b, 0)} vectors, ${copied.conversations} conversations, ${copied.traces} traces\n`);
          process.stdout.write(check.ok ? `verified: counts agree and ${check.sampled} sample searches rank the same\n` : `verification failed:\n${check.problems.map((p) => `  ${p}\n`).join("")}`);
        }
        return check.ok ? 0 : 1;
      } finally {
        progress.stop();
        from.close();
        await to?.close();
      }
    }));
}
