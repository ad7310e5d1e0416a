// `strata models inspect <file.gguf>`: what a downloaded model file is and whether Strata's engine
// can run and fine-tune it (and why not), read from the header alone.
import { resolve } from "node:path";
import type { Command } from "commander";
import { inspectGguf, type GgufInspection } from "../../formats/gguf/index.js";
import { type CommandContext, withCommand } from "../run.js";

interface InspectFlags {
  json?: boolean;
  template?: boolean;
}

const HELP = `
Reads only the file's header (metadata and tensor list), so it is quick on a multi-GB file.
Exit code 0 when the builtin engine can run the file, 1 when it cannot (the reason is printed).

Examples:
  strata models inspect ./qwen2.5-0.5b-instruct-q8_0.gguf
  strata models inspect ./Llama-3.2-1B-Instruct-Q4_K_M.gguf --json
  strata generate --model builtin:./qwen2.5-0.5b-instruct-q8_0.gguf "Hello"`;

function mib(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function render(r: GgufInspection, fullTemplate: boolean): string {
  const line = (k: string, v: unknown): string => (v === undefined ? "" : `${k.padEnd(16)}${String(v)}\n`);
  const types = Object.entries(r.tensorTypes)
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([t, v]) => `${t} ×${v.tensors} (${mib(v.bytes)})`)
    .join(", ");
  const shape = r.layers === undefined ? undefined : `${r.layers} layers, width ${r.width}, ${r.heads} heads (${r.kvHeads ?? r.heads} key/value), feed-forward ${r.feedForward}`;
  const rope = [r.rope.base === undefined ? "" : `base ${r.rope.base}`, r.rope.scaling ? `scaling ${r.rope.scaling}${r.rope.factor ? ` ×${r.rope.factor}` : ""}` : "", r.rope.perFrequencyFactors ? "per-frequency factors (rope_freqs)" : ""].filter(Boolean).join(", ");
  const tk = r.tokenizer;
  const tokenizer = tk.model === undefined ? "none" : `${tk.kind ?? `${tk.model}${tk.pre ? `, pre-tokenizer ${tk.pre}` : ""}`}, ${tk.tokens.toLocaleString("en-US")} tokens, BOS ${JSON.stringify(tk.bos)}${tk.addBos ? " (added)" : ""}, EOS ${JSON.stringify(tk.eos)}`;
  const template = r.chatTemplate === undefined ? "none" : fullTemplate || r.chatTemplate.length <= 160 ? `\n${r.chatTemplate}` : `${r.chatTemplate.length} characters (--template prints it): ${JSON.stringify(r.chatTemplate.slice(0, 100))}…`;
  return (
    line("file", `${r.path} (${mib(r.bytes)}, GGUF v${r.ggufVersion})`) +
    line("name", r.name) +
    line("architecture", r.architecture ?? "not stated") +
    line("parameters", r.parameters.toLocaleString("en-US")) +
    line("context", r.contextLength?.toLocaleString("en-US")) +
    line("shape", shape) +
    line("RoPE", rope || undefined) +
    line("sliding window", r.slidingWindow === undefined ? undefined : `${r.slidingWindow} (llama.cpp ignores it for this architecture; so does Strata)`) +
    line("tensor types", types) +
    line("tokenizer", tokenizer) +
    line("chat template", template) +
    line("runs in Strata", `${r.run.ok ? "yes" : "no"}: ${r.run.reason}`) +
    line("fine-tunes", `${r.fineTune.ok ? "yes" : "no"}: ${r.fineTune.reason}`)
  );
}

export function registerModels(program: Command): void {
  const models = program.command("models").description("look at model files").addHelpText("after", "\nExample:\n  strata models inspect ./model.gguf");
  models
    .command("inspect")
    .description("architecture, size, context, tensor types, tokenizer and chat template of a GGUF file, and whether Strata can run and fine-tune it")
    .argument("<file.gguf>", "the model file")
    .option("--json", "print one JSON document with every field")
    .option("--template", "print the whole chat template")
    .addHelpText("after", HELP)
    .action(withCommand(async (file: string, flags: InspectFlags, ctx: CommandContext) => {
      const r = await inspectGguf(resolve(file));
      if (flags.json) ctx.printJson(r);
      else process.stdout.write(render(r, flags.template ?? false));
      return r.run.ok ? 0 : 1;
    }));
}
