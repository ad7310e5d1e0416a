// Provider options as the CLI sees them: API key and settings from the environment, the price table
// from a config file. Only the CLI (and the server) read these; the library takes them as options.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import type { ProviderOptions } from "../model/types.js";

const priceSchema = z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() });
const configSchema = z
  .object({
    prices: z.record(z.string(), priceSchema).optional(),
    threads: z.number().int().positive().optional(),
    timeoutMs: z.number().int().positive().optional(),
    maxRetries: z.number().int().nonnegative().optional(),
  })
  .strict();

export type StrataConfig = z.infer<typeof configSchema>;

/** Reads STRATA_CONFIG, else ./strata.config.json when present; absent means defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): StrataConfig {
  const file = env.STRATA_CONFIG ? resolve(env.STRATA_CONFIG) : resolve("strata.config.json");
  if (!existsSync(file)) {
    if (env.STRATA_CONFIG) throw new StrataError("NOT_FOUND", `config file ${file} (from STRATA_CONFIG) does not exist`, "fix STRATA_CONFIG or unset it");
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `config file ${file} is not valid JSON: ${(e as Error).message}`, "fix the JSON (e.g. with `node -e 'JSON.parse(...)'`)");
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StrataError("PARSE_FAILED", `config file ${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`, 'expected {"prices": {"<model>": {"inputPerMillion": n, "outputPerMillion": n}}, "threads": n}');
  }
  return parsed.data;
}

/** Options for model providers from the environment and the config file. */
export function providerOptions(env: NodeJS.ProcessEnv = process.env): ProviderOptions {
  const config = loadConfig(env);
  const threads = env.STRATA_THREADS ? Number(env.STRATA_THREADS) : config.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new StrataError("USAGE", `STRATA_THREADS must be a whole number ≥ 1, got "${env.STRATA_THREADS}"`, "e.g. STRATA_THREADS=2");
  return {
    apiKey: env.STRATA_OPENAI_API_KEY ?? env.OPENAI_API_KEY,
    prices: config.prices,
    // Unset unless asked for: each provider picks its own default (llama.cpp: cores − 1, because its
    // spinning workers crawl on a busy 2-core machine — 2 threads there made gguf: 300× slower).
    threads,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
  };
}
