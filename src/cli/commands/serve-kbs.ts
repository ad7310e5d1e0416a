// `strata serve kbs import|list`: knowledge bases made with `strata ingest --kb <folder>`, attached
// to a server's data folder offline (a running server sees an import from its next request).
import type { Command } from "commander";
import { openServerDb } from "../../server/db.js";
import { KbRegistry, type KbInfo, type KbMembers } from "../../server/kb-registry.js";
import { usageError } from "../errors.js";
import { parseList } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

export interface ServeAdminHelpers {
  defaultData: string;
  /** The --data given to the subcommand or to `serve` itself. */
  dataOf(flags: { data?: string }): string | undefined;
  /** The server's error codes as the CLI's. */
  asCliError(e: unknown): unknown;
}

const HELP = `
import copies the folder (SQLite's backup API, so a base being written is copied consistently) to
<data>/kbs/<name>/ and registers it with its members; the original is left untouched. Only members
(and admins) see the base. A folder that is not a Strata knowledge base, an existing name, or a
failure midway changes nothing.

Examples:
  strata ingest ./handbook --kb ./handbook-kb
  strata serve kbs import ./handbook-kb --name handbook --groups staff --data ./strata-data
  strata serve kbs list --data ./strata-data`;

function membersText(m: KbMembers): string {
  const parts = [...m.users.map((u) => `user ${u}`), ...m.groups.map((g) => `group ${g}`)];
  return parts.length > 0 ? parts.join(", ") : "no members (admins only)";
}

async function withRegistry<T>(data: string, helpers: ServeAdminHelpers, use: (r: KbRegistry) => Promise<T> | T): Promise<T> {
  const { db } = openServerDb(data);
  const registry = new KbRegistry(db, data);
  try {
    return await use(registry);
  } catch (e) {
    throw helpers.asCliError(e);
  } finally {
    await registry.closeAll();
    db.close();
  }
}

export function registerServeKbs(serveCmd: Command, helpers: ServeAdminHelpers): void {
  const kbs = serveCmd.command("kbs").description("knowledge bases in a data folder (also over HTTP: /api/kbs)").addHelpText("after", HELP);
  kbs
    .command("import")
    .description("copy a knowledge base made by `strata ingest --kb` into the data folder and register it")
    .argument("<kb-folder>", "the knowledge-base folder (the --kb of strata ingest)")
    .option("--name <name>", "the name it is served under (1–64 letters, digits, '.', '_', '-')")
    .option("--users <users>", "member users, comma-separated")
    .option("--groups <groups>", "member groups, comma-separated")
    .option("--data <dir>", `data folder (default ${helpers.defaultData})`)
    .option("--json", "print the registered base as JSON")
    .addHelpText("after", HELP)
    .action(withCommand(async (folder: string, flags: { name?: string; users?: string; groups?: string; data?: string; json?: boolean }, ctx: CommandContext) => {
      if (!flags.name) throw usageError("--name <name> is required", "e.g. --name handbook (the name the server lists it under)");
      const data = helpers.dataOf(flags) ?? helpers.defaultData;
      const members = { users: parseList(flags.users), groups: parseList(flags.groups) };
      return withRegistry(data, helpers, async (registry) => {
        const done = await registry.importFrom(folder, flags.name!, members, "cli");
        if (flags.json) ctx.printJson(done);
        else {
          process.stdout.write(`imported ${folder} as knowledge base ${done.name} (${done.documents} documents; ${membersText(done.members)})\n`);
          process.stderr.write(`serve it with: strata serve --data ${data}\n`);
        }
        return 0;
      });
    }));
  kbs
    .command("list")
    .description("list the registered knowledge bases and their members")
    .option("--data <dir>", `data folder (default ${helpers.defaultData})`)
    .option("--json", "print JSON")
    .action(withCommand(async (flags: { data?: string; json?: boolean }, ctx: CommandContext) =>
      withRegistry(helpers.dataOf(flags) ?? helpers.defaultData, helpers, (registry) => {
        const list: KbInfo[] = registry.listAll();
        if (flags.json) ctx.printJson(list);
        else if (list.length === 0) process.stderr.write("no knowledge bases yet; add one with `strata serve kbs import <kb-folder> --name <name>`\n");
        else for (const k of list) process.stdout.write(`${k.name}  ${membersText(k.members)}  created ${k.createdAt} by ${k.createdBy}\n`);
        return 0;
      }),
    ));
}
