// One training step of a DiT of the given configuration on random images, for the throughput
// comparison with PyTorch in bench/diffusion.ts (the same work as the reference script: forward,
// backward, clipping, AdamW).
import { DiT, type DitConfig, noiseImages, noiseSchedule } from "../../src/nn/diffusion/index.js";
import { Rng, tensor } from "../../src/tensor/index.js";
import { AdamW, clipGradNorm } from "../../src/train/index.js";

export function drawBatchForBench(config: DitConfig, batch: number): { stepOnce: () => void } {
  const model = new DiT(config, { seed: 1 });
  const opt = new AdamW(model.namedParameters().map(([name, t]) => ({ name, tensor: t, decay: false })), { lr: 1e-3, weightDecay: 0 });
  const rng = new Rng(2);
  const { alphaBar } = noiseSchedule(config.schedule, config.timesteps);
  const per = config.channels * config.image * config.image;
  const shape = [batch, config.channels, config.image, config.image];
  return {
    stepOnce: () => {
      const x0 = rng.fillUniform(new Float32Array(batch * per), -1, 1);
      const noise = rng.fillNormal(new Float32Array(batch * per));
      const t = Array.from({ length: batch }, () => rng.int(config.timesteps));
      const rows = Array.from({ length: batch }, () => rng.int(config.prompts + 1));
      opt.zeroGrad();
      model.loss(tensor(noiseImages(x0, noise, t, alphaBar, per), shape), t, rows, tensor(noise, shape)).backward();
      clipGradNorm(model.parameters(), 1);
      opt.step();
    },
  };
}
