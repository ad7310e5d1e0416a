// Agent task success on scripted tool environments: each task gives an agent a goal and a small
// deterministic world (tools over in-memory state); success is judged on the world's end state —
// what the agent did, not what it says it did — and on the run completing. Every task gets a fresh
// world and its own checkpointed run (the real agent loop, src/agents).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { runAgent } from "../agents/loop/agent.js";
import { AgentStore } from "../agents/store/agent-store.js";
import { defineTool, type Tool } from "../agents/tools/tool.js";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import type { LanguageModel } from "../model/types.js";
import { mean } from "./metrics.js";
import type { StoredItem } from "./run-store.js";

export interface TaskWorld {
  tools: Tool[];
  /** Whether the world ended where the goal wanted it, and why not. */
  check(answer: string | null): { ok: boolean; reason: string };
}

export interface AgentTask {
  id: string;
  goal: string;
  world(): TaskWorld;
  maxSteps?: number;
}

// Tools in these worlds change only in-memory state, so they run without approval.
const tool = <I extends z.ZodType>(spec: Parameters<typeof defineTool<I>>[0]): Tool => defineTool({ ...spec, requiresApproval: false, untrustedOutput: false });

/** Three small worlds: stock ordering (arithmetic on a read), booking the first free slot, a transfer of half a balance. */
export function builtinAgentTasks(): AgentTask[] {
  return [
    {
      id: "inventory-restock",
      goal: "We need 12 apples in stock. Check the stock and order exactly the missing number of apples.",
      world() {
        const stock: Record<string, number> = { apple: 5, pear: 9 };
        const orders: { item: string; qty: number }[] = [];
        return {
          tools: [
            tool({ name: "get_stock", description: "How many units of an item are in stock", risk: "read", input: z.object({ item: z.string() }), run: ({ item }) => ({ item, units: stock[item.toLowerCase().replace(/s$/, "")] ?? 0 }) }),
            tool({ name: "place_order", description: "Orders units of an item", risk: "write", input: z.object({ item: z.string(), qty: z.number().int().positive() }), run: ({ item, qty }) => (orders.push({ item: item.toLowerCase().replace(/s$/, ""), qty }), { ordered: qty }) }),
          ],
          check: () => {
            const apples = orders.filter((o) => o.item === "apple").reduce((s, o) => s + o.qty, 0);
            return apples === 7 && orders.every((o) => o.item === "apple") ? { ok: true, reason: "ordered 7 apples" } : { ok: false, reason: `orders: ${JSON.stringify(orders)} (expected 7 apples)` };
          },
        };
      },
    },
    {
      id: "calendar-first-free",
      goal: "Book a meeting titled Standup on Monday at the first free hour between 9 and 12 (a slot starts on the hour).",
      world() {
        const taken = new Set([9, 10]);
        const booked: { day: string; hour: number; title: string }[] = [];
        return {
          tools: [
            tool({ name: "list_events", description: "The hours already taken on a day", risk: "read", input: z.object({ day: z.string() }), run: ({ day }) => ({ day, taken: day.toLowerCase() === "monday" ? [...taken] : [] }) }),
            tool({ name: "book", description: "Books a one-hour meeting", risk: "write", input: z.object({ day: z.string(), hour: z.number().int().min(0).max(23), title: z.string() }), run: ({ day, hour, title }) => {
              if (day.toLowerCase() === "monday" && taken.has(hour)) throw new StrataError("USAGE", `${hour}:00 on Monday is taken`, "pick a free hour");
              booked.push({ day: day.toLowerCase(), hour, title });
              return { booked: true };
            } }),
          ],
          check: () => (booked.length === 1 && booked[0]!.day === "monday" && booked[0]!.hour === 11 && /standup/i.test(booked[0]!.title) ? { ok: true, reason: "booked Monday 11:00" } : { ok: false, reason: `bookings: ${JSON.stringify(booked)} (expected one Standup on Monday at 11)` }),
        };
      },
    },
    {
      id: "bank-half-transfer",
      goal: "Move half of the checking account's balance to savings.",
      world() {
        const balance: Record<string, number> = { checking: 840, savings: 100 };
        return {
          tools: [
            tool({ name: "get_balance", description: "An account's balance", risk: "read", input: z.object({ account: z.string() }), run: ({ account }) => ({ account, balance: balance[account.toLowerCase()] ?? null }) }),
            tool({ name: "transfer", description: "Moves money between accounts", risk: "write", input: z.object({ from: z.string(), to: z.string(), amount: z.number().positive() }), run: ({ from, to, amount }) => {
              const f = from.toLowerCase();
              const t = to.toLowerCase();
              if (!(f in balance) || !(t in balance)) throw new StrataError("USAGE", "unknown account", "use checking or savings");
              if (balance[f]! < amount) throw new StrataError("USAGE", "insufficient funds", "transfer less");
              balance[f]! -= amount;
              balance[t]! += amount;
              return { ok: true };
            } }),
          ],
          check: () => (balance.checking === 420 && balance.savings === 520 ? { ok: true, reason: "moved 420" } : { ok: false, reason: `balances ${JSON.stringify(balance)} (expected checking 420, savings 520)` }),
        };
      },
    },
  ];
}

export interface AgentTasksOptions extends LongOperationOptions {
  onItem: (item: StoredItem) => void;
}

/** Runs every task with the model; each scored item says whether the world ended as the goal wanted. */
export async function runAgentTasks(tasks: readonly AgentTask[], model: LanguageModel, opts: AgentTasksOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "strata-eval-agents-"));
  const store = AgentStore.open(dir, { create: true });
  try {
    let n = 0;
    for (const task of tasks) {
      throwIfAborted(opts.signal);
      const world = task.world();
      const t0 = performance.now();
      let status = "failed";
      let answer: string | null = null;
      let error: string | undefined;
      try {
        const r = await runAgent({ goal: task.goal, model, tools: world.tools, store, maxSteps: task.maxSteps ?? 8, temperature: 0, signal: opts.signal });
        status = r.status;
        answer = typeof r.result === "string" ? r.result : r.result === null ? null : JSON.stringify(r.result);
        error = r.error?.message;
      } catch (e) {
        if (e instanceof StrataError && (e.code === "ABORTED" || e.code.startsWith("MODEL_"))) throw e;
        error = e instanceof Error ? e.message : String(e);
      }
      const verdict = world.check(answer);
      const ok = status === "completed" && verdict.ok;
      opts.onItem({ id: task.id, metrics: { success: ok ? 1 : 0, ms: Number((performance.now() - t0).toFixed(2)) }, detail: { question: task.goal, answer: answer ?? "", status, reason: ok ? verdict.reason : error ?? (status !== "completed" ? `the run ended ${status}` : verdict.reason) } });
      opts.onProgress?.({ phase: "eval", done: ++n, total: tasks.length, item: task.id });
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function summarizeAgentTasks(items: readonly StoredItem[]): Record<string, number | null> {
  return { tasks: items.length, success_rate: items.length ? Number(mean(items.map((i) => i.metrics.success ?? 0)).toFixed(4)) : null, ms_per_task: items.length ? Number(mean(items.map((i) => i.metrics.ms ?? 0)).toFixed(1)) : null };
}
