// The configuration of the diffusion transformer (DiT, Peebles & Xie 2023, scaled down for 28×28
// greyscale images) and its noise schedule. run.json stores it; zod checks it when read.

import { z } from "zod";
import { StrataError } from "../../core/errors.js";

export const ditConfigSchema = z
  .object({
    /** Image side in pixels (square images). */
    image: z.number().int().positive(),
    channels: z.number().int().positive(),
    /** Patch side: (image / patch)² tokens. */
    patch: z.number().int().positive(),
    dim: z.number().int().positive(),
    depth: z.number().int().positive(),
    heads: z.number().int().positive(),
    /** Hidden width of each block's MLP, as a multiple of dim. */
    mlpRatio: z.number().int().positive(),
    /** Width of the sinusoidal timestep features fed to the timestep MLP. */
    freqDim: z.number().int().positive(),
    /** Rows of the condition table: one per prompt; the row after them is the null (unconditional) condition. */
    prompts: z.number().int().positive(),
    /** Diffusion steps of the training schedule (T). */
    timesteps: z.number().int().positive(),
    schedule: z.enum(["cosine", "linear"]),
  })
  .strict();

export type DitConfig = z.infer<typeof ditConfigSchema>;

export function validateDitConfig(c: DitConfig): void {
  const bad = (what: string, hint: string): never => {
    throw new StrataError("INVALID_CONFIG", `diffusion model: ${what}`, hint);
  };
  const parsed = ditConfigSchema.safeParse(c);
  if (!parsed.success) bad(`${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`, "see src/nn/diffusion/config.ts for the fields");
  if (c.image % c.patch !== 0) bad(`patch ${c.patch} does not divide the image side ${c.image}`, "use patch 4 for 28×28 images");
  if (c.dim % c.heads !== 0) bad(`dim ${c.dim} is not a multiple of heads ${c.heads}`, "e.g. dim 128 with 4 heads");
  if (c.freqDim % 2 !== 0) bad(`freqDim ${c.freqDim} must be even`, "use 64");
}

export function tokenCount(c: DitConfig): number {
  return (c.image / c.patch) ** 2;
}
