// Ops for image models (the diffusion transformer of src/nn/diffusion): LayerNorm without a learned
// gain (DiT's adaLN supplies scale and shift per sample instead), the adaLN modulation, and the
// patch (un)folding that turns a [B, C, H, W] image into [B, tokens, patchDim] and back.
//
//   layerNorm(x)            (x − mean) / sqrt(var + eps) over the last axis; fused, hand backward:
//                           dx = rstd · (g − mean(g) − y · mean(g · y))
//   modulate(x, shift, s)   x · (1 + s) + shift, with shift/s [B, D] broadcast over x's tokens [B, T, D]
//   patchify(x, p)          [B, C, H, W] → [B, (H/p)(W/p), p·p·C], each token one p×p patch, pixels
//                           row-major within the patch and channels last (DiT's "nhwpqc" order)
//   unpatchify(x, p, C, H, W)  the inverse
//
// patchify/unpatchify are views plus one copy (reshape, permute, contiguous), so their gradients come
// from those ops.

import { add, contiguous, mul, permute, reshape, unsqueeze } from "./ops.js";
import { fmtShape, shapeError } from "./shape.js";
import { type Tensor, fromOp } from "./tensor.js";

/** LayerNorm over the last axis with no gain or bias: (x − mean) / sqrt(var + eps), variance biased (÷ n) as PyTorch's. */
export function layerNorm(x: Tensor, eps = 1e-6): Tensor {
  if (x.ndim === 0) throw shapeError("layerNorm of a scalar");
  const n = x.shape[x.ndim - 1]!;
  const rows = n === 0 ? 0 : x.size / n;
  const xd = x.contiguousData();
  const y = new Float32Array(x.size);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mean = 0;
    for (let j = 0; j < n; j++) mean += xd[o + j]!;
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = xd[o + j]! - mean;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / n + eps);
    rstd[r] = rs;
    for (let j = 0; j < n; j++) y[o + j] = (xd[o + j]! - mean) * rs;
  }
  return fromOp(y, x.shape, "layerNorm", [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let mg = 0;
      let mgy = 0;
      for (let j = 0; j < n; j++) {
        mg += g[o + j]!;
        mgy += g[o + j]! * y[o + j]!;
      }
      mg /= n;
      mgy /= n;
      const rs = rstd[r]!;
      for (let j = 0; j < n; j++) dx[o + j] = rs * (g[o + j]! - mg - y[o + j]! * mgy);
    }
    return [dx];
  });
}

/** adaLN modulation: x [B, T, D] · (1 + scale) + shift, with scale and shift [B, D] per sample. */
export function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  if (x.ndim !== 3 || shift.ndim !== 2 || scale.ndim !== 2 || shift.shape[0] !== x.shape[0] || shift.shape[1] !== x.shape[2] || scale.shape[0] !== x.shape[0] || scale.shape[1] !== x.shape[2]) {
    throw shapeError(`modulate: expects x [B, T, D] with shift and scale [B, D], got ${fmtShape(x.shape)}, ${fmtShape(shift.shape)}, ${fmtShape(scale.shape)}`);
  }
  return add(mul(x, add(unsqueeze(scale, 1), 1)), unsqueeze(shift, 1));
}

/** [B, C, H, W] → [B, (H/p)(W/p), p·p·C]; H and W must be multiples of p. */
export function patchify(x: Tensor, p: number): Tensor {
  if (x.ndim !== 4) throw shapeError(`patchify: expects an image batch [B, C, H, W], got ${fmtShape(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  if (!Number.isInteger(p) || p < 1 || H % p !== 0 || W % p !== 0) throw shapeError(`patchify: patch size ${p} does not divide the image ${H}×${W}`, "use a patch size that divides both sides (4 for 28×28)");
  const h = H / p;
  const w = W / p;
  const t = permute(reshape(x, [B, C, h, p, w, p]), [0, 2, 4, 3, 5, 1]); // B h w p q C
  return reshape(contiguous(t), [B, h * w, p * p * C]);
}

/** [B, (H/p)(W/p), p·p·C] → [B, C, H, W], the inverse of patchify. */
export function unpatchify(x: Tensor, p: number, C: number, H: number, W: number): Tensor {
  const h = H / p;
  const w = W / p;
  if (x.ndim !== 3 || !Number.isInteger(h) || !Number.isInteger(w) || x.shape[1] !== h * w || x.shape[2] !== p * p * C) {
    throw shapeError(`unpatchify: ${fmtShape(x.shape)} is not [B, ${Number.isInteger(h * w) ? h * w : "?"}, ${p * p * C}] patches of a ${C}×${H}×${W} image`);
  }
  const B = x.shape[0]!;
  const t = permute(reshape(x, [B, h, w, p, p, C]), [0, 5, 1, 3, 2, 4]); // B C h p w q
  return reshape(contiguous(t), [B, C, H, W]);
}
