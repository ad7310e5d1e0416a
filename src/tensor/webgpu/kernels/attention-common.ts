// What the attention kernels share: the layout parameters (q, k, v as [B, T|S, H, D] views with a
// contiguous head dim, as src/tensor/kernels/attention.ts's HeadView), and the tile sizes.

import type { AttentionDims, HeadView } from "../../kernels/attention.js";
import type { ParamLayout } from "../params.js";
import { guarded } from "./wgsl-snippets.js";

export interface AttentionTiles {
  /** Query rows per workgroup (one thread each). */
  BR: number;
  /** Key rows per shared-memory tile. */
  BC: number;
}

export const DEFAULT_ATTENTION_TILES: AttentionTiles = { BR: 64, BC: 32 };

export const ATTENTION_PARAMS: ParamLayout = [
  ["T", "u32"], ["S", "u32"], ["Hq", "u32"], ["Hkv", "u32"], ["group", "u32"], ["causal", "u32"],
  ["qOff", "u32"], ["qsB", "u32"], ["qsT", "u32"], ["qsH", "u32"],
  ["kOff", "u32"], ["ksB", "u32"], ["ksT", "u32"], ["ksH", "u32"],
  ["vOff", "u32"], ["vsB", "u32"], ["vsT", "u32"], ["vsH", "u32"], ["scale", "f32"],
];

/** Strides of a view (element offsets of b, t, h); `data` is ignored: buffers are bound separately. */
export type ViewLayout = Omit<HeadView, "data">;

/** The contiguous [B, T, H, D] layout. */
export function packedLayout(T: number, H: number, D: number): ViewLayout {
  return { offset: 0, sB: T * H * D, sT: H * D, sH: D };
}

export function attentionValues(q: ViewLayout, k: ViewLayout, v: ViewLayout, d: AttentionDims): Record<string, number> {
  return {
    T: d.T, S: d.S, Hq: d.Hq, Hkv: d.Hkv, group: d.Hq / d.Hkv, causal: d.causal ? 1 : 0,
    qOff: q.offset, qsB: q.sB, qsT: q.sT, qsH: q.sH, kOff: k.offset, ksB: k.sB, ksT: k.sT, ksH: k.sH,
    vOff: v.offset, vsB: v.sB, vsT: v.sT, vsH: v.sH, scale: d.scale,
  };
}

/** WGSL expression: whether key j is visible to query i (causal: aligned to the end of the keys). Inlined, not a WGSL function, so the interpreter's scoping cannot differ from Tint's. */
export function visible(i: string, j: string): string {
  return `(p.causal == 0u || ${j} + p.T <= p.S + ${i})`;
}

/**
 * WGSL statements: `kEnd`, the end of the keys any query row of this workgroup (BR rows from
 * wid.x·BR) may see — a uniform bound, so barriers inside the key loop stay in uniform control flow.
 */
export function causalKeyEnd(BR: number): string {
  return `var kEnd = p.S;
  if (p.causal == 1u) { kEnd = min(p.S, p.S - p.T + min(p.T, wid.x * ${BR}u + ${BR}u)); }`;
}

/** WGSL statements: the BC keys and values from s0 into workgroup memory Ks, Vs (zeros past S), then a barrier. */
export function loadKeyValueTile(BR: number, BC: number, D: number): string {
  return `for (var e = lid; e < ${BC * D}u; e += ${BR}u) {
      let j = s0 + e / ${D}u; let d = e % ${D}u; let ok = j < p.S;
      Ks[e] = select(0.0, K[${guarded(`p.kOff + b * p.ksB + g * p.ksH + j * p.ksT + d`, "ok")}], ok);
      Vs[e] = select(0.0, V[${guarded(`p.vOff + b * p.vsB + g * p.vsH + j * p.vsT + d`, "ok")}], ok);
    }
    workgroupBarrier();`;
}
