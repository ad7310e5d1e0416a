// One op for a LoRA projection, y = x Wᵀ + s · (x Aᵀ) Bᵀ with s = alpha/r, written on the backend's
// gemm (as tensor/ops.ts's linear is) so that the low-rank term accumulates into the base product's
// own output buffer (β = 1): no [.., out] delta or sum tensor is kept for the backward, only the
// [.., r] product u = x Aᵀ. Shapes: x [..., in], W [out, in], A [r, in], B [out, r].
//
// Backward, for the output gradient g [N, out]:
//   gB = g B                      [N, r]
//   dx = g W + s · gB A           [N, in]
//   dA = s · gBᵀ x                [r, in]
//   dB = s · gᵀ u                 [out, r]
//   dW = gᵀ x                     only when W is trained (not with LoRA)
// Checked against a hand-written PyTorch LoRA in test/train/finetune-reference.test.ts.
import { type Tensor, backend, contiguous, fromOp } from "../tensor/index.js";

export function loraLinear(x: Tensor, w: Tensor, a: Tensor, b: Tensor, scale: number): Tensor {
  const [outF, inF] = w.shape as [number, number];
  const r = a.shape[0]!;
  const xc = contiguous(x);
  const rows = xc.size / inF;
  const wd = w.contiguousData();
  const ad = a.contiguousData();
  const bd = b.contiguousData();
  const bk = backend();
  const y = new Float32Array(rows * outF);
  const u = new Float32Array(rows * r);
  bk.gemm(false, true, rows, outF, inF, 1, xc.data, xc.offset, inF, wd, 0, inF, 0, y, 0, outF); // x Wᵀ
  bk.gemm(false, true, rows, r, inF, 1, xc.data, xc.offset, inF, ad, 0, inF, 0, u, 0, r); // u = x Aᵀ
  bk.gemm(false, true, rows, outF, r, scale, u, 0, r, bd, 0, r, 1, y, 0, outF); // y += s · u Bᵀ
  return fromOp(y, [...x.shape.slice(0, -1), outF], "loraLinear", [xc, w, a, b], (g) => {
    const k = backend();
    const gB = new Float32Array(rows * r);
    k.gemm(false, false, rows, r, outF, 1, g, 0, outF, bd, 0, r, 0, gB, 0, r);
    let dx: Float32Array | null = null;
    if (xc.requiresGrad) {
      dx = new Float32Array(rows * inF);
      k.gemm(false, false, rows, inF, outF, 1, g, 0, outF, wd, 0, inF, 0, dx, 0, inF);
      k.gemm(false, false, rows, inF, r, scale, gB, 0, r, ad, 0, inF, 1, dx, 0, inF);
    }
    let dw: Float32Array | null = null;
    if (w.requiresGrad) {
      dw = new Float32Array(outF * inF);
      k.gemm(true, false, outF, inF, rows, 1, g, 0, outF, xc.data, xc.offset, inF, 0, dw, 0, inF);
    }
    let da: Float32Array | null = null;
    if (a.requiresGrad) {
      da = new Float32Array(r * inF);
      k.gemm(true, false, r, inF, rows, scale, gB, 0, r, xc.data, xc.offset, inF, 0, da, 0, inF);
    }
    let db: Float32Array | null = null;
    if (b.requiresGrad) {
      db = new Float32Array(outF * r);
      k.gemm(true, false, outF, r, rows, scale, g, 0, outF, u, 0, r, 0, db, 0, r);
    }
    return [dx, dw, da, db];
  });
}
