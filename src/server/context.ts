// What every route module gets: the accounts, the knowledge bases, the models, the usage ledger
// and the limits the operator set.
import type { FastifyRequest } from "fastify";
import type { ParseLimits } from "../knowledge/loaders/parse-limits.js";
import type { Accounts } from "./accounts.js";
import type { KbRegistry } from "./kb-registry.js";
import type { ModelCatalog } from "./models.js";
import type { PageIndex } from "./pages.js";
import type { RequestUsage, UsageLedger } from "./usage.js";

export interface ServerLimits {
  /** Largest JSON body, bytes. */
  bodyLimit: number;
  /** Largest upload (all files of one request together), bytes. */
  uploadLimit: number;
  /** Most files in one upload. */
  maxUploadFiles: number;
  /** Longest a handler may run before it is cancelled, ms. */
  handlerTimeoutMs: number;
  /** How far an uploaded document may expand while parsed (defaults in knowledge/loaders/parse-limits.ts). */
  parse?: Partial<ParseLimits>;
}

export interface ServerContext {
  accounts: Accounts;
  kbs: KbRegistry;
  models: ModelCatalog;
  usage: UsageLedger;
  pages: PageIndex;
  limits: ServerLimits;
  /** The server's data folder (absolute): server.db, kbs/, and each layer's own folder. */
  dataDir: string;
  /** Guardrails on every answer the server gives (each knowledge base may switch on more). */
  guardrails?: { redactPii?: boolean; screenJailbreaks?: boolean };
}

declare module "fastify" {
  interface FastifyRequest {
    /** Model tokens and cost this request spent, added to its key's usage when it ends. */
    spent?: RequestUsage;
  }
}

/** Adds model usage to the request's tally. */
export function spend(request: FastifyRequest, u: { inputTokens: number; outputTokens: number; costUsd?: number } | undefined): void {
  if (!u) return;
  const s = (request.spent ??= { inputTokens: 0, outputTokens: 0, costUsd: 0 });
  s.inputTokens += u.inputTokens;
  s.outputTokens += u.outputTokens;
  s.costUsd += u.costUsd ?? 0;
}
