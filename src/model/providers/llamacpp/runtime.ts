// The one llama.cpp runtime of the process: node-llama-cpp is imported on first use (only gguf: users
// pay for it) and getLlama runs once, CPU only, never building or downloading. llama.cpp's log goes
// through one logger to whoever listens (each open model's onLog), never to stdout.
import { StrataError } from "../../../core/errors.js";

export type NodeLlamaCpp = typeof import("node-llama-cpp");
export type Llama = import("node-llama-cpp").Llama;

type LogListener = (level: string, line: string) => void;
const listeners = new Set<LogListener>();

let modulePromise: Promise<NodeLlamaCpp> | undefined;
let llamaPromise: Promise<Llama> | undefined;

export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  modulePromise ??= import("node-llama-cpp").catch((e: unknown) => {
    modulePromise = undefined;
    throw new StrataError("MODEL_LOAD_FAILED", `node-llama-cpp could not be loaded: ${firstLine(e)}`, "reinstall Strata's dependencies (npm install); gguf: models need node-llama-cpp", { cause: e });
  });
  return modulePromise;
}

/** The process-wide Llama instance. */
export function sharedLlama(): Promise<Llama> {
  llamaPromise ??= (async () => {
    const mod = await nodeLlamaCpp();
    try {
      return await mod.getLlama({
        gpu: false,
        build: "never",
        logLevel: mod.LlamaLogLevel.warn,
        logger: (level, message) => {
          for (const l of listeners) l(String(level), message.trimEnd());
        },
      });
    } catch (e) {
      throw new StrataError("MODEL_LOAD_FAILED", `llama.cpp could not start: ${firstLine(e)}`, "node-llama-cpp ships prebuilt CPU binaries for linux/macOS/windows x64 and arm64; reinstall it for this platform", { cause: e });
    }
  })();
  llamaPromise.catch(() => {
    llamaPromise = undefined;
  });
  return llamaPromise;
}

/** Receives llama.cpp's log lines until the returned function is called. */
export function listenToLlamaLog(listener: LogListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Runs `fn` while collecting llama.cpp's warning and error lines, for error messages. */
export async function withLlamaLog<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; log: string[] }> {
  const log: string[] = [];
  const stop = listenToLlamaLog((level, line) => {
    if (line && (level === "error" || level === "warn" || level === "fatal")) log.push(line);
  });
  try {
    return { value: await fn(), log };
  } catch (error) {
    return { error, log };
  } finally {
    stop();
  }
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}
