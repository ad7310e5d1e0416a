import type { Command } from "commander";
import { createEmbeddingModel, createLanguageModel } from "../../model/registry.js";
import type { LanguageModel } from "../../model/types.js";
import { StrataError } from "../../core/errors.js";
import { Accounts, ADMIN_USER, createStrataServer, openServerDb, parseServedModel, SCOPES, ServerError, type KeyInfo, type Scope, type ServedEmbeddingModel, type ServedLanguageModel } from "../../server/index.js";
import { storeLocation } from "../../knowledge/store/location.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseByteSize, parseList, parsePositiveInt } from "../options.js";
import { DEFAULT_SSE_CAPS } from "../../server/sse-caps.js";
import { addParseLimitOptions, parseLimitsFromFlags, type ParseLimitFlags } from "../parse-limit-options.js";
import { type CommandContext, withCommand } from "../run.js";
import { registerServeKbs } from "./serve-kbs.js";

const DEFAULT_DATA = "./strata-data";

interface ServeFlags extends ParseLimitFlags {
  port?: string;
  host?: string;
  data?: string;
  model?: string[];
  embed?: string;
  uploadLimit?: string;
  bodyLimit?: string;
  rateLimit?: string;
  timeout?: string;
  shutdownTimeout?: string;
  trainingSlots?: string;
  cors?: string;
  trustProxy?: string;
  maxStreamsPerKey?: string;
  maxStreamsPerRun?: string;
  web?: string;
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  quiet?: boolean;
  redactPii?: boolean;
  screenJailbreaks?: boolean;
}

const HELP = `
The data folder holds server.db (users, groups, API keys as scrypt hashes, the knowledge-base
registry, usage per key) and kbs/<name>/, one Strata knowledge base each. On first start an admin
key is made and printed once on stderr; set STRATA_ADMIN_KEY to choose it instead (deployments).
Every /api and /v1 route takes Authorization: Bearer <key>; the routes are in /openapi.json and
docs/api.md. Logs are JSON lines on stderr and never contain keys. SIGTERM or Ctrl-C stops
accepting connections, lets requests in flight finish, then closes the stores. Started through
\`npx strata serve\`, the server also stops when the npx process is killed; scripts and service
managers should start \`node node_modules/strata/dist/src/cli/main.js serve\` (or the installed
\`strata\` binary) directly, so their signals reach the server itself.

Models: --model may be given several times; the first answers /api/.../ask by default. Clients
choose models by id (GET /v1/models): the model name of an openai: reference, the file name of a
gguf: one, or your own with --model <id>=<ref>.

Examples:
  strata serve --data ./strata-data
  strata serve --port 8080 --model openai:http://127.0.0.1:11434/v1#llama3 --embed openai:http://127.0.0.1:11434/v1#nomic-embed-text
  STRATA_ADMIN_KEY=$(cat admin.key) strata serve --host 0.0.0.0 --data /var/lib/strata
  strata serve users add dana --groups research --data ./strata-data
  strata serve keys create --user dana --scopes read,ingest --data ./strata-data
  strata serve kbs import ./handbook-kb --name handbook --groups research --data ./strata-data`;

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function parsePort(value: string | undefined): number {
  if (value === undefined) return 8080;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a whole number from 0 to 65535, got "${value}"`, "e.g. --port 8080 (0 picks a free port)");
  return n;
}

/** 0 is allowed (training runs off), so parsePositiveInt does not fit. */
function parseTrainingSlots(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 64) throw usageError(`--training-slots must be a whole number from 0 to 64, got "${value}"`, "e.g. --training-slots 1 (each run's trainer takes every core; 0 turns training runs off)");
  return n;
}

function parseScopes(value: string | undefined): Scope[] {
  const scopes = parseList(value);
  if (scopes.length === 0) throw usageError("--scopes is required", `choose from ${SCOPES.join(", ")}, e.g. --scopes read,ingest`);
  for (const s of scopes) if (!SCOPES.includes(s as Scope)) throw usageError(`unknown scope "${s}"`, `choose from ${SCOPES.join(", ")}`);
  return scopes as Scope[];
}

async function serve(flags: ServeFlags, ctx: CommandContext): Promise<number> {
  const port = parsePort(flags.port);
  const host = flags.host ?? "127.0.0.1";
  const dataDir = flags.data ?? DEFAULT_DATA;
  // A URL is never taken for a folder name (it would silently create ./postgres:/…).
  if (storeLocation(dataDir).kind === "postgres") {
    throw usageError("strata serve --data takes a folder: serving accounts and knowledge bases from PostgreSQL is not available yet", "use a folder for --data; a knowledge base on PostgreSQL is searched with `strata search --kb postgres://…`");
  }
  const rateLimit = flags.rateLimit === undefined ? undefined : Number(flags.rateLimit);
  if (rateLimit !== undefined && (!Number.isInteger(rateLimit) || rateLimit < 0)) throw usageError(`--rate-limit must be a whole number ≥ 0, got "${flags.rateLimit}"`, "e.g. --rate-limit 600 (requests per key per minute; 0 turns it off)");
  const timeoutS = parsePositiveInt("--timeout", flags.timeout, 300, 86_400);
  const shutdownS = parsePositiveInt("--shutdown-timeout", flags.shutdownTimeout, 30, 3_600);
  const trainingSlots = parseTrainingSlots(flags.trainingSlots);
  const parseLimits = parseLimitsFromFlags(flags);
  const specs = (flags.model ?? []).map(parseServedModel);
  const embedSpec = flags.embed === undefined ? undefined : parseServedModel(flags.embed);

  const options = providerOptions();
  const language: ServedLanguageModel[] = [];
  let embedding: ServedEmbeddingModel | undefined;
  const closeModels = async (): Promise<void> => {
    await Promise.allSettled([...language.map((m) => m.model.close()), ...(embedding ? [embedding.model.close()] : [])]);
  };
  try {
    for (const s of specs) {
      const model: LanguageModel = await createLanguageModel(s.ref, options);
      language.push({ id: s.id, model });
    }
    if (embedSpec) embedding = { id: embedSpec.id, model: await createEmbeddingModel(embedSpec.ref, options) };

    const server = await createStrataServer({
      dataDir,
      languageModels: language,
      embeddingModel: embedding,
      adminKey: process.env.STRATA_ADMIN_KEY,
      uploadLimit: parseByteSize("--upload-limit", flags.uploadLimit, 50 * 1024 * 1024),
      parseLimits,
      bodyLimit: parseByteSize("--body-limit", flags.bodyLimit, 2 * 1024 * 1024),
      rateLimit: rateLimit === 0 ? false : rateLimit === undefined ? undefined : { max: rateLimit, windowMs: 60_000 },
      timeoutMs: timeoutS * 1000,
      trainingSlots,
      guardrails: { redactPii: flags.redactPii === true, screenJailbreaks: flags.screenJailbreaks === true },
      corsOrigins: parseList(flags.cors),
      trustProxy: parseList(flags.trustProxy),
      sseCaps: { perKey: parsePositiveInt("--max-streams-per-key", flags.maxStreamsPerKey, DEFAULT_SSE_CAPS.perKey, 100_000), perRun: parsePositiveInt("--max-streams-per-run", flags.maxStreamsPerRun, DEFAULT_SSE_CAPS.perRun, 100_000) },
      webRoot: flags.web,
      logger: flags.quiet ? false : { level: flags.logLevel ?? "info", stream: process.stderr },
    }).catch((e: unknown) => {
      throw asCliError(e);
    });
    const err = (s: string): boolean => process.stderr.write(s + "\n");
    const adminKey = server.createdAdminKey ?? (process.env.STRATA_ADMIN_KEY === undefined ? await firstAdminKey(dataDir) : undefined);
    if (adminKey) {
      err("admin key (shown once; store it now — only its hash is kept):");
      err(`  ${adminKey}`);
    } else if (server.activeAdminKeys === 0) {
      err(`warning: no admin key works; make one with \`strata serve keys create --user admin --scopes read,ingest,admin --data ${dataDir}\``);
    }
    let url: string;
    try {
      url = await server.listen({ port, host });
    } catch (e) {
      await server.close();
      const code = (e as { code?: string }).code;
      if (code === "EADDRINUSE") throw usageError(`port ${port} on ${host} is in use`, "choose another with --port, or stop the other server");
      if (code === "EACCES") throw usageError(`no permission to listen on ${host}:${port}`, "use a port above 1024");
      throw e;
    }
    err(`strata serve: listening on ${url} (data ${dataDir}; models: ${[...language.map((m) => m.id), ...(embedding ? [`${embedding.id} (embeddings)`] : [])].join(", ") || "none, answers are extractive"}; web UI ${server.webUiBuilt ? "at /" : "not built"})`);

    // SIGTERM, or Ctrl-C through the command's signal: stop accepting, finish in flight, close.
    // Started by `npx strata serve` (npm exec), the server's parent is npm, which does not pass
    // SIGTERM on: when that wrapper goes away the server stops too, instead of running on orphaned.
    const watchWrapper = process.env.npm_command === "exec" ? watchParent() : undefined;
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once("SIGTERM", stop);
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", stop, { once: true });
      watchWrapper?.then(() => {
        err("strata serve: the npx wrapper that started the server is gone");
        resolve();
      });
    });
    err("strata serve: shutting down: finishing requests in flight");
    const force = setTimeout(() => {
      err(`strata serve: requests still open after ${shutdownS} s; closing their connections`);
      server.app.server.closeAllConnections();
    }, shutdownS * 1000);
    force.unref();
    await server.close();
    clearTimeout(force);
    err("strata serve: stopped");
    return 0;
  } finally {
    await closeModels();
  }
}

/** Resolves when this process's parent exits (it is then re-parented, so its parent id changes). */
function watchParent(): Promise<void> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      resolve();
    }, 500);
    timer.unref();
  });
}

/** The server's own error codes (CONFLICT, UNAUTHORIZED, …) as the CLI's: usage mistakes, or NOT_FOUND. */
function asCliError(e: unknown): unknown {
  if (!(e instanceof ServerError)) return e;
  return new StrataError(e.code === "NOT_FOUND" ? "NOT_FOUND" : "USAGE", e.message, e.hint);
}

/**
 * The admin key of a data folder's first start when offline commands (`serve kbs import`, `serve
 * users add`, `serve keys create` for users) made server.db before the server ever ran: no admin
 * key has ever been made, so this start is the first that can show one. A folder whose admin keys
 * were all revoked stays as it is (the warning says how to make one).
 */
async function firstAdminKey(dataDir: string): Promise<string | undefined> {
  return withAccounts(dataDir, async (a) => {
    if (a.listKeys().some((k) => k.scopes.includes("admin"))) return undefined;
    return (await a.createKey({ user: ADMIN_USER, scopes: [...SCOPES], origin: "first-start", name: "first start" })).key;
  });
}

/** Opens the data folder's server.db for the offline admin commands. */
async function withAccounts<T>(data: string | undefined, use: (a: Accounts) => Promise<T> | T): Promise<T> {
  const { db } = openServerDb(data ?? DEFAULT_DATA);
  try {
    return await use(new Accounts(db));
  } catch (e) {
    throw asCliError(e);
  } finally {
    db.close();
  }
}

function describeKey(k: KeyInfo): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt ? `expires ${k.expiresAt}` : "no expiry";
  return `${k.id}  ${k.user}  ${k.scopes.join(",")}  ${state}${k.name ? `  (${k.name})` : ""}`;
}

export function registerServe(program: Command): void {
  const serveCmd = program
    .command("serve")
    .description("run the HTTP server: Strata's API, an OpenAI-compatible /v1 and the web UI, with users, API keys and per-document access")
    .option("--port <n>", "port (default 8080; 0 picks a free one)")
    .option("--host <addr>", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    .option("--data <dir>", `data folder: server.db and kbs/ (default ${DEFAULT_DATA})`)
    .option("--model <[id=]ref>", "language model to serve (repeatable; the first is the default)", collect)
    .option("--embed <[id=]ref>", "embedding model: /v1/embeddings, dense and hybrid search, embedding uploads")
    .option("--upload-limit <size>", "largest upload, all files together (default 50MB)")
    .option("--body-limit <size>", "largest JSON body (default 2MB)")
    .option("--rate-limit <n>", "requests per key per minute (default 600; 0 = off)")
    .option("--timeout <s>", "longest a request may take, seconds (default 300)")
    .option("--shutdown-timeout <s>", "on SIGTERM, how long requests in flight may take to finish (default 30)")
    .option("--training-slots <n>", "training runs that may train at once (default 1; 0 = training runs off)")
    .option("--cors <origins>", "origins allowed to call the API from a browser, comma-separated (default none)")
    .option("--trust-proxy <addrs>", "reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client (default none)")
    .option("--max-streams-per-key <n>", `concurrent event streams one key may hold open (default ${DEFAULT_SSE_CAPS.perKey})`)
    .option("--max-streams-per-run <n>", `concurrent event streams on one training or agent run (default ${DEFAULT_SSE_CAPS.perRun})`)
    .option("--web <dir>", "web UI folder (default: the package's web/dist)")
    .option("--log-level <level>", "fatal, error, warn, info (default), debug or trace")
    .option("--quiet", "no request logs")
    .option("--redact-pii", "redact personal data in every answer (each knowledge base may switch it on too: strata guardrails)")
    .option("--screen-jailbreaks", "refuse questions with jailbreak or override phrasing, for every knowledge base");
  addParseLimitOptions(serveCmd)
    .addHelpText("after", HELP)
    .action(withCommand(async (flags: ServeFlags, ctx: CommandContext) => serve(flags, ctx)));

  // `--data` after a subcommand is claimed by `serve` itself (commander reads a parent's options
  // anywhere unless the whole program uses positional options), so look in both places.
  const dataOf = (flags: { data?: string }): string | undefined => flags.data ?? serveCmd.opts<{ data?: string }>().data;

  const users = serveCmd.command("users").description("users and groups in a data folder's server.db (also over HTTP: /api/users)");
  users
    .command("add")
    .description("add a user")
    .argument("<name>", "user name")
    .option("--groups <groups>", "groups, comma-separated")
    .option("--data <dir>", `data folder (default ${DEFAULT_DATA})`)
    .option("--json", "print the user as JSON")
    .action(withCommand(async (name: string, flags: { groups?: string; data?: string; json?: boolean }, ctx: CommandContext) =>
      withAccounts(dataOf(flags), (a) => {
        const u = a.createUser(name, parseList(flags.groups));
        if (flags.json) ctx.printJson(u);
        else process.stdout.write(`added user ${u.name}${u.groups.length ? ` (groups ${u.groups.join(", ")})` : ""}\n`);
        return 0;
      }),
    ));
  users
    .command("list")
    .description("list users and their groups")
    .option("--data <dir>", `data folder (default ${DEFAULT_DATA})`)
    .option("--json", "print JSON")
    .action(withCommand(async (flags: { data?: string; json?: boolean }, ctx: CommandContext) =>
      withAccounts(dataOf(flags), (a) => {
        const list = a.listUsers();
        if (flags.json) ctx.printJson(list);
        else for (const u of list) process.stdout.write(`${u.name}${u.groups.length ? `  ${u.groups.join(",")}` : ""}\n`);
        return 0;
      }),
    ));

  const keys = serveCmd.command("keys").description("API keys in a data folder's server.db (also over HTTP: /api/keys)");
  keys
    .command("create")
    .description("make a key; it is printed once and only its hash is kept")
    .requiredOption("--user <name>", "the key's user")
    .option("--scopes <scopes>", `comma-separated: ${SCOPES.join(", ")}`)
    .option("--expires <time>", "ISO 8601 expiry, e.g. 2030-01-31T00:00:00Z (default none)")
    .option("--name <label>", "a label for the key")
    .option("--data <dir>", `data folder (default ${DEFAULT_DATA})`)
    .option("--json", "print {id, key, ...} as JSON")
    .action(withCommand(async (flags: { user: string; scopes?: string; expires?: string; name?: string; data?: string; json?: boolean }, ctx: CommandContext) =>
      withAccounts(dataOf(flags), async (a) => {
        const { info, key } = await a.createKey({ user: flags.user, scopes: parseScopes(flags.scopes), expiresAt: flags.expires ?? null, name: flags.name ?? null, origin: "cli" });
        if (flags.json) ctx.printJson({ ...info, key });
        else {
          process.stdout.write(`${key}\n`);
          process.stderr.write(`key ${info.id} for ${info.user} (${info.scopes.join(",")}); shown once — store it now\n`);
        }
        return 0;
      }),
    ));
  keys
    .command("list")
    .description("list keys (never their secrets)")
    .option("--data <dir>", `data folder (default ${DEFAULT_DATA})`)
    .option("--json", "print JSON")
    .action(withCommand(async (flags: { data?: string; json?: boolean }, ctx: CommandContext) =>
      withAccounts(dataOf(flags), (a) => {
        const list = a.listKeys();
        if (flags.json) ctx.printJson(list);
        else for (const k of list) process.stdout.write(describeKey(k) + "\n");
        return 0;
      }),
    ));
  keys
    .command("revoke")
    .description("revoke a key (a running server refuses it from its next request)")
    .argument("<id>", "key id (strata serve keys list)")
    .option("--data <dir>", `data folder (default ${DEFAULT_DATA})`)
    .action(withCommand(async (id: string, flags: { data?: string }, _ctx: CommandContext) =>
      withAccounts(dataOf(flags), (a) => {
        if (!a.revokeKey(id)) throw usageError(`there is no key ${id}`, "list keys with `strata serve keys list`");
        process.stdout.write(`revoked ${id}\n`);
        return 0;
      }),
    ));
  registerServeKbs(serveCmd, { defaultData: DEFAULT_DATA, dataOf, asCliError });
}
