// Flags shared by the `strata agent` subcommands, and the parsers of their values.
import { userInfo } from "node:os";
import type { Budget } from "../../../agents/types.js";
import { usageError } from "../../errors.js";
import { parseList } from "../../options.js";

export interface ToolFlags {
  tools?: string;
  kb?: string;
  as?: string;
  groups?: string;
  files?: string;
  sql?: string;
  allowHosts?: string;
  allowCommands?: string;
}

export interface RunFlags extends ToolFlags {
  goal?: string;
  pattern?: "agent" | "planner-solver" | "reflexion" | "supervisor";
  mcp?: string[];
  mcpAllow?: string;
  model?: string;
  budget?: string;
  store?: string;
  var?: string[];
  input?: string;
  maxSteps?: string;
  toolMode?: "auto" | "native" | "json" | "prompt";
  system?: string;
  thread?: string;
  by?: string;
  quiet?: boolean;
  json?: boolean;
}

const BUDGET_KEYS: Record<string, keyof Budget> = { tokens: "tokens", cost: "costUsd", calls: "toolCalls", seconds: "seconds", time: "seconds" };

/** "tokens=5000,cost=0.50,calls=20,seconds=300" → Budget. */
export function parseBudget(value: string | undefined): Budget {
  const out: Budget = {};
  for (const part of parseList(value)) {
    const m = /^([a-z]+)\s*=\s*([0-9]+(?:\.[0-9]+)?)$/i.exec(part);
    const key = m ? BUDGET_KEYS[m[1]!.toLowerCase()] : undefined;
    if (!m || !key) throw usageError(`--budget: cannot read "${part}"`, "use key=value pairs from tokens, cost (US dollars), calls (tool calls), seconds, e.g. --budget tokens=20000,calls=10,seconds=120");
    out[key] = Number(m[2]);
  }
  return out;
}

export function parseVars(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf("=");
    if (i <= 0) throw usageError(`--var: "${v}" is not key=value`, "e.g. --var db=./uat/cases.db");
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function actor(flags: { by?: string }): string {
  if (flags.by?.trim()) return flags.by.trim();
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}
