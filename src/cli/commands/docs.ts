// `strata docs list|show|rm`: what a knowledge base holds, without searching for it. `strata show`
// stays as the short form of `docs show`.
import type { Command } from "commander";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import type { DocumentSummary } from "../../knowledge/store/readable-documents.js";
import type { Acl } from "../../knowledge/types.js";
import { EXIT, usageError } from "../errors.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface AccessFlags {
  kb?: string;
  as?: string;
  groups?: string;
  json?: boolean;
}

interface ListFlags extends AccessFlags {
  tags?: string;
  source?: string;
  aclUser?: string;
  aclGroup?: string;
  public?: boolean;
  limit?: string;
  offset?: string;
}

const LIST_HELP = `
Documents are listed by source, --limit at a time (default 50); the last line says how to get the
next page. The id in the first column is what \`strata docs show\`, \`strata docs rm\` and citations use.

Examples:
  strata docs list --kb ./kb
  strata docs list --kb ./kb --tags handbook --acl-group staff --json
  strata docs list --kb ./kb --source ./docs/policies/ --limit 20 --offset 20
  strata docs list --kb ./kb --as guest          # what the user guest may read`;

export function describeAcl(acl: Acl): string {
  return acl.users.length + acl.groups.length === 0 ? "public" : [...acl.users.map((u) => `user:${u}`), ...acl.groups.map((g) => `group:${g}`)].join(" ");
}

function addAccessOptions(c: Command): Command {
  return c
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "act as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)");
}

export function registerDocs(program: Command): void {
  const docs = program
    .command("docs")
    .description("list, show and remove the documents of a knowledge base")
    .addHelpText("after", "\nExample:\n  strata docs list --kb ./kb\n  strata docs show doc_0123456789abcdef --kb ./kb\n  strata docs rm doc_0123456789abcdef --kb ./kb");

  addAccessOptions(docs.command("list").description("list documents (id, title, source, tags, access), a page at a time"))
    .option("--tags <tags>", "only documents with one of these tags (comma-separated)")
    .option("--source <prefix>", "only documents whose source starts with this")
    .option("--acl-user <user>", "only documents whose access list names this user")
    .option("--acl-group <group>", "only documents whose access list names this group")
    .option("--public", "only documents everyone may read")
    .option("--limit <n>", "documents per page (default 50)")
    .option("--offset <n>", "documents to skip (default 0)")
    .option("--json", "print one JSON document: {total, offset, documents:[{docId, title, source, tags, acl, …}]}")
    .addHelpText("after", LIST_HELP)
    .action(withCommand(async (flags: ListFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const limit = parsePositiveInt("--limit", flags.limit, 50, 10_000);
      const offset = parseOffset(flags.offset);
      if (flags.public && (flags.aclUser || flags.aclGroup)) throw usageError("--public cannot be combined with --acl-user or --acl-group", "public documents have no access list; drop one of them");
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const page = kb.listDocuments(access, {
          tags: parseList(flags.tags),
          sourcePrefix: flags.source,
          aclUser: flags.aclUser,
          aclGroup: flags.aclGroup,
          publicOnly: flags.public,
          limit,
          offset,
        });
        if (flags.json) ctx.printJson(page);
        else printList(page.documents, page.total, offset, flags.kb!);
        return 0;
      } finally {
        kb.close();
      }
    }));

  registerShowCommand(docs.command("show"));

  addAccessOptions(docs.command("rm").description("remove documents (their chunks, vectors and index entries) by id"))
    .argument("<docId...>", "document ids, as in `strata docs list`")
    .option("--json", "print one JSON document: {removed:[…], missing:[…]}")
    .addHelpText("after", "\nA removed document comes back when its source is ingested again.\n\nExample:\n  strata docs rm doc_0123456789abcdef --kb ./kb\n\nExit codes: 0 all removed, 3 some ids were not found, 1 none was found.")
    .action(withCommand(async (ids: string[], flags: AccessFlags, ctx: CommandContext) => {
      if (flags.as !== undefined) throw usageError("`docs rm` acts as the store's owner; --as is not accepted", "drop --as; only the owner of a local store removes documents");
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const removed: string[] = [];
        const missing: string[] = [];
        for (const id of new Set(ids)) (kb.remove(id) ? removed : missing).push(id);
        if (flags.json) ctx.printJson({ removed, missing });
        else {
          for (const id of removed) process.stdout.write(`removed ${id}\n`);
          for (const id of missing) process.stderr.write(`not found: ${id} (list ids with \`strata docs list --kb ${flags.kb}\`)\n`);
        }
        return missing.length === 0 ? EXIT.ok : removed.length > 0 ? EXIT.partial : EXIT.error;
      } finally {
        kb.close();
      }
    }));
  for (const c of docs.commands) c.exitOverride();
}

function parseOffset(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--offset must be a whole number ≥ 0, got "${value}"`, "e.g. --offset 50 for the second page of 50");
  return n;
}

function printList(documents: DocumentSummary[], total: number, offset: number, kbDir: string): void {
  const out = (s: string): boolean => process.stdout.write(s);
  if (total === 0) {
    out(`no documents (add some with \`strata ingest <path> --kb ${kbDir}\`)\n`);
    return;
  }
  for (const d of documents) {
    const tags = d.tags.length > 0 ? `  tags: ${d.tags.join(",")}` : "";
    out(`${d.docId}  ${d.title}\n    ${d.source}  v${d.version}  ${describeAcl(d.acl)}${tags}\n`);
  }
  const last = offset + documents.length;
  if (documents.length === 0) out(`no documents at offset ${offset} (${total} in all)\n`);
  else out(`${offset + 1}–${last} of ${total}${last < total ? `; next page: --offset ${last}` : ""}\n`);
}

/** `docs show` and its short form `strata show`: one document's lineage, access and text. */
export function registerShowCommand(c: Command): void {
  addAccessOptions(c)
    .description("show a document's lineage, access list and extracted text (the text citations point into)")
    .argument("<docId>", "document id, as in `strata docs list`, search results and citations")
    .option("--json", "print one JSON document: {docId, source, version, hash, acl, text, …}")
    .addHelpText("after", "\nExample:\n  strata docs show doc_0123456789abcdef --kb ./kb --json")
    .action(withCommand(async (docId: string, flags: AccessFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const d = kb.getDocument(docId, access);
        if (flags.json) ctx.printJson({ docId: d.docId, source: d.source, title: d.title, mime: d.mime, version: d.version, hash: d.hash, ingestedAt: d.ingestedAt, tags: d.tags, acl: d.acl, text: d.text });
        else {
          process.stdout.write(`${d.title}\nid: ${d.docId}\nsource: ${d.source}\nversion ${d.version}, sha256 ${d.hash}, ingested ${d.ingestedAt}\naccess: ${describeAcl(d.acl)}\ntags: ${d.tags.join(", ") || "none"}\n\n${d.text}\n`);
        }
        return 0;
      } finally {
        kb.close();
      }
    }));
}
