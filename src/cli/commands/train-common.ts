// What every `strata train` command shares: flag parsing, the progress bar (loss, rate, ETA) and the
// --events JSON-lines log. Pretraining (train.ts), fine-tuning (train-finetune.ts) and diffusion use
// it; a file of its own so those commands do not import each other.
import { closeSync, openSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import type { ProgressEvent } from "../../core/events.js";
import { type TrainEvent, formatBytes } from "../../train/index.js";
import { usageError } from "../errors.js";
import { parsePositiveInt } from "../options.js";
import { progressDisplay } from "../progress.js";

export function parseNumber(name: string, value: string | undefined, min: number, max: number, example: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= min || n > max) throw usageError(`${name} must be a number above ${min} and at most ${max}, got "${value}"`, `e.g. ${name} ${example}`);
  return n;
}

export function intFlag(name: string, value: string | undefined, max: number): number | undefined {
  return value === undefined ? undefined : parsePositiveInt(name, value, 1, max);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

// ---------------------------------------------------------------- progress

/** A bar with loss, rate and ETA on a terminal; a plain line every few seconds (and every evaluation) otherwise. */
export function trainDisplay(): { onEvent: (e: TrainEvent) => void; onProgress: (e: ProgressEvent) => void; stop: () => void } {
  const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
  const generic = progressDisplay();
  let bar: cliProgress.SingleBar | null = null;
  let startStep = 0;
  let sessionStart = 0;
  let lastLine = 0;
  const write = (line: string): void => {
    if (bar) bar.stop();
    process.stderr.write(line + "\n");
    if (bar) bar = null;
  };
  const eta = (e: Extract<TrainEvent, { type: "step" }>): number => {
    const secs = (performance.now() - sessionStart) / 1000;
    const done = e.step - startStep;
    return done > 0 ? ((e.steps - e.step) * secs) / done : Number.NaN;
  };
  return {
    onProgress: (p) => {
      if (p.phase !== "train") generic.listener(p);
    },
    onEvent: (e) => {
      switch (e.type) {
        case "dataset":
          generic.stop(); // the tokenize bar is done
          process.stderr.write(`data: ${e.tokens.toLocaleString("en-US")} tokens (${e.trainTokens.toLocaleString("en-US")} train, ${e.valTokens.toLocaleString("en-US")} validation)${e.reused ? ", reused" : ""}\n`);
          break;
        case "start":
          startStep = e.step;
          sessionStart = performance.now();
          process.stderr.write(
            `${e.resumedFrom !== null ? `resuming at step ${e.resumedFrom}` : "training"}: ${e.parameters.toLocaleString("en-US")} parameters, ${e.tokensPerStep.toLocaleString("en-US")} tokens/step, ${e.steps} steps, memory ≈ ${formatBytes(e.memory.total)}\n`,
          );
          break;
        case "step": {
          const payload = { loss: e.loss.toFixed(4), lr: e.lr.toExponential(2), rate: Math.round(e.tokensPerSecond).toLocaleString("en-US"), remaining: formatDuration(eta(e)) };
          if (interactive) {
            if (!bar) {
              bar = new cliProgress.SingleBar(
                { format: "train [{bar}] {value}/{total} | loss {loss} | {rate} tok/s | ETA {remaining}", stream: process.stderr, hideCursor: true, barsize: 18 },
                cliProgress.Presets.shades_classic,
              );
              bar.start(e.steps, e.step, payload);
            } else bar.update(e.step, payload);
          } else {
            const now = performance.now();
            if (now - lastLine >= 5000 || e.step === e.steps || e.step === startStep + 1) {
              lastLine = now;
              process.stderr.write(`step ${e.step}/${e.steps}: loss ${payload.loss}, lr ${payload.lr}, ${payload.rate} tok/s, eta ${payload.remaining}\n`);
            }
          }
          break;
        }
        case "eval":
          write(`eval at step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)} (perplexity ${e.valPerplexity.toFixed(2)})${e.metrics ? `, ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")}` : ""}`);
          break;
        case "early-stop":
          write(`early stop at step ${e.step}: the validation loss has not improved on ${e.bestValLoss.toFixed(4)}`);
          break;
        case "checkpoint":
          write(`checkpoint: ${e.dir}`);
          break;
      }
    },
    stop: () => {
      bar?.stop();
      bar = null;
      generic.stop();
    },
  };
}

/**
 * --events <file>: one JSON line per event, appended as it happens, so another program (the
 * server) can follow a run without parsing the human progress on stderr. Progress of the
 * tokenize and tokenizer phases is thinned to a few lines a second; training events are all kept.
 */
export function eventLog(path: string): { onEvent: (e: TrainEvent) => void; onProgress: (e: ProgressEvent) => void; close: () => void } {
  let fd: number | null;
  try {
    fd = openSync(path, "a");
  } catch (e) {
    throw usageError(`cannot open the --events file ${path}: ${(e as Error).message}`, "name a file in a folder that exists and is writable");
  }
  const lastProgress = new Map<string, number>();
  const write = (event: object): void => {
    if (fd !== null) writeSync(fd, JSON.stringify({ ...event, time: new Date().toISOString() }) + "\n");
  };
  return {
    onEvent: (e) => write(e),
    onProgress: (p) => {
      if (p.phase === "train") return; // step events say it
      const now = performance.now();
      if (p.done !== p.total && now - (lastProgress.get(p.phase) ?? -Infinity) < 250) return;
      lastProgress.set(p.phase, now);
      write({ type: "progress", phase: p.phase, done: p.done, ...(p.total !== undefined ? { total: p.total } : {}) });
    },
    close: () => {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

// ---------------------------------------------------------------- commands

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1) throw usageError(`--seed must be a whole number from 0 to ${2 ** 32 - 1}, got "${value}"`, "e.g. --seed 1337");
  return n;
}
