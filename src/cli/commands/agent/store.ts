// The agent store the subcommands work on (--store, default .strata/agents), and the spec of a run in it.
import { resolve } from "node:path";
import { StrataError } from "../../../core/errors.js";
import { readRunSpec, type RunSpec } from "../../../agents/run-spec.js";
import { AgentStore } from "../../../agents/store/agent-store.js";
import type { JsonValue } from "../../../agents/types.js";

export const DEFAULT_STORE = ".strata/agents";

function storePath(flags: { store?: string }): string {
  return resolve(flags.store ?? DEFAULT_STORE);
}

export function openStore(flags: { store?: string }, create = false): AgentStore {
  return AgentStore.open(storePath(flags), { create });
}

export function readSpec(value: JsonValue, threadId: string): RunSpec {
  const spec = readRunSpec(value, threadId);
  if (spec.origin === "server") throw new StrataError("USAGE", `run ${threadId} belongs to the Strata server (its owner is ${spec.owner ?? "unknown"})`, "approve, reject or resume it through the server: POST /api/agent-runs/<id>/approve (or the web UI)");
  return spec;
}
