// `strata generate image "<prompt>"`: images from a diffusion run (builtin:<run dir>), written as
// a PNG — one image, or a grid of --grid seeds starting at --seed.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { encodeGreyGrid } from "../../formats/png.js";
import { generateImages, loadImageModel } from "../../model/diffusion/image-model.js";
import { usageError } from "../errors.js";
import { type CommandContext, withCommand } from "../run.js";

interface Flags {
  model?: string;
  steps?: string;
  guidance?: string;
  seed?: string;
  grid?: string;
  sampler?: string;
  scale?: string;
  out?: string;
  json?: boolean;
}

function int(name: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max) throw usageError(`${name} must be a whole number from ${min} to ${max}, got "${v}"`, `e.g. ${name} ${fallback}`);
  return n;
}

export function registerGenerateImage(generate: Command): void {
  generate
    .command("image")
    .description("generate an image from a prompt with a diffusion model trained by `strata train diffusion`")
    .argument("<prompt>", 'what to draw, one of the prompts the model was trained on, e.g. "an ankle boot"')
    .option("--model <ref>", "builtin:<run dir> of a diffusion run")
    .option("--steps <n>", "denoising steps (1 to the model's schedule, 1000 for the fashion preset; default 50)")
    .option("--guidance <w>", "classifier-free guidance: 0 = ignore the prompt, 1 = conditional, higher = stronger (default 3)")
    .option("--seed <n>", "the seed of the starting noise (default 0); the same seed gives the same image")
    .option("--grid <n>", "make n images, seeds seed … seed+n−1, in one PNG grid")
    .option("--sampler <name>", "ddim (deterministic, default) or ddpm (adds fresh noise each step)")
    .option("--scale <k>", "enlarge each pixel k times in the PNG (default 4)")
    .option("--out <file.png>", "where to write the PNG")
    .option("--json", "print one JSON document: {out, prompt, known, className, seeds, steps, guidance, sampler, checkpoint, seconds, warnings}")
    .addHelpText("after", '\nExamples:\n  strata generate image "an ankle boot" --model builtin:runs/fashion --steps 50 --guidance 3 --seed 1 --out boot.png\n  strata generate image "a dress" --model builtin:runs/fashion --grid 16 --out dresses.png')
    .action(withCommand(async (prompt: string, own: Flags, ctx: CommandContext) => {
      // `generate` has --model, --seed and --json too and takes them when they come before an option
      // it does not know; they are the same flags, so the parent's values count here.
      const parent = generate.opts<Pick<Flags, "model" | "seed" | "json">>();
      const flags: Flags = { model: parent.model, seed: parent.seed, json: parent.json, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)) };
      if (!flags.model) throw usageError("--model <ref> is required", "e.g. --model builtin:runs/fashion");
      if (!flags.out) throw usageError("--out <file.png> is required", "e.g. --out boot.png");
      const steps = int("--steps", flags.steps, 50, 0, 1e6);
      const seed = int("--seed", flags.seed, 0, 0, 2 ** 32 - 1);
      const count = int("--grid", flags.grid, 1, 1, 1024);
      const scale = int("--scale", flags.scale, 4, 1, 32);
      const guidance = flags.guidance === undefined ? 3 : Number(flags.guidance);
      if (flags.guidance !== undefined && (flags.guidance.trim() === "" || !Number.isFinite(guidance) || guidance < 0 || guidance > 100)) throw usageError(`--guidance must be a number from 0 to 100, got "${flags.guidance}"`, "e.g. --guidance 3");
      const sampler = flags.sampler ?? "ddim";
      if (sampler !== "ddim" && sampler !== "ddpm") throw usageError(`--sampler must be ddim or ddpm, got "${sampler}"`, "e.g. --sampler ddim");
      const m = await loadImageModel(flags.model);
      const seeds = Array.from({ length: count }, (_, i) => seed + i);
      const r = generateImages(m, { prompt, seeds, steps, guidance, sampler, signal: ctx.signal });
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      await writeFile(flags.out, encodeGreyGrid(r.pixels, r.count, r.side, Math.ceil(Math.sqrt(r.count)), scale));
      const summary = { out: flags.out, prompt, known: r.row !== null, className: r.className, seeds, steps, guidance: r.row === null ? 0 : guidance, sampler, checkpoint: m.dir, seconds: r.ms / 1000, warnings: r.warnings };
      if (flags.json) ctx.printJson(summary);
      else process.stdout.write(`${flags.out}: ${count} image${count > 1 ? "s" : ""} of "${prompt}"${r.className ? ` (${r.className})` : " (unconditioned)"}, ${steps} ${sampler} steps, guidance ${summary.guidance}, seed${count > 1 ? `s ${seed}–${seed + count - 1}` : ` ${seed}`}, ${(r.ms / 1000).toFixed(1)} s\n`);
      return 0;
    }));
}
