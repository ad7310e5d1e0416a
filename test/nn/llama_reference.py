"""PyTorch reference for Strata's llama (test/nn/torch-reference.test.ts runs it with /usr/bin/python3).

Reads from the folder given as argv[1]:
  config.json   the LlamaConfig, the batch shape [B, T], the ignore index, and the parameter list
                [{name, shape}] in the order of weights.bin
  weights.bin   float32 little-endian, the parameters concatenated in that order
  ids.bin       int32 [B, T] token ids;  targets.bin  int32 [B, T] targets
Writes to the same folder:
  logits.bin    float32 [B, T, V]
  grads.bin     float32, d loss / d parameter for every parameter, same order as weights.bin
  loss.json     {"loss", "cross_entropy", "aux_loss"}

The model is written out here in plain PyTorch from the llama description (no Strata code):
RMSNorm, RoPE on interleaved adjacent pairs, grouped-query causal attention, SwiGLU, optional
top-k mixture of experts with a Switch-style load-balancing loss.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, base):
    # x [B, T, H, D]; pair (x[2i], x[2i+1]) at position t rotated by t * base^(-2i/D)
    _, t, _, d = x.shape
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * base ** (-2.0 * i / d)[None, :]
    cos = angles.cos().float()[None, :, None, :]
    sin = angles.sin().float()[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


def attention(x, p, pre, c):
    b, t, dim = x.shape
    h, hkv = c["heads"], c["kvHeads"]
    d = dim // h
    q = (x @ p[pre + "wq.weight"].T).view(b, t, h, d)
    k = (x @ p[pre + "wk.weight"].T).view(b, t, hkv, d)
    v = (x @ p[pre + "wv.weight"].T).view(b, t, hkv, d)
    q, k = rope(q, c["ropeBase"]), rope(k, c["ropeBase"])
    k = k.repeat_interleave(h // hkv, dim=2)  # query head j uses kv head j // (h / hkv)
    v = v.repeat_interleave(h // hkv, dim=2)
    q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # [B, H, T, D]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(mask, float("-inf"))
    o = F.softmax(scores, dim=-1) @ v  # [B, H, T, D]
    o = o.transpose(1, 2).reshape(b, t, h * d)
    return o @ p[pre + "wo.weight"].T


def swiglu_ffn(x, p, pre):
    return (F.silu(x @ p[pre + "w1.weight"].T) * (x @ p[pre + "w3.weight"].T)) @ p[pre + "w2.weight"].T


def moe_ffn(x, p, pre, c):
    e_count, k = c["moe"]["experts"], c["moe"]["topK"]
    b, t, dim = x.shape
    x2 = x.reshape(b * t, dim)
    logits = x2 @ p[pre + "gate.weight"].T  # [N, E]
    top_vals, top_idx = torch.topk(logits, k, dim=-1)
    weights = F.softmax(top_vals, dim=-1)  # [N, k]
    out = torch.zeros_like(x2)
    for e in range(e_count):
        token, slot = (top_idx == e).nonzero(as_tuple=True)
        if token.numel() == 0:
            continue
        y = swiglu_ffn(x2[token], p, f"{pre}experts.{e}.")
        out = out.index_add(0, token, y * weights[token, slot][:, None])
    counts = torch.bincount(top_idx.flatten(), minlength=e_count).float()
    frac = counts / (b * t * k)
    prob = F.softmax(logits, dim=-1).mean(0)
    aux = e_count * (frac * prob).sum()
    return out.view(b, t, dim), aux


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "config.json")) as f:
        spec = json.load(f)
    c = spec["config"]
    b, t = spec["shape"]
    raw = torch.from_numpy(__import__("numpy").fromfile(os.path.join(folder, "weights.bin"), dtype="<f4"))
    params, offset = {}, 0
    for entry in spec["params"]:
        n = math.prod(entry["shape"])
        params[entry["name"]] = raw[offset : offset + n].clone().view(*entry["shape"]).requires_grad_(True)
        offset += n
    assert offset == raw.numel(), "weights.bin does not match the parameter list"
    np = __import__("numpy")
    ids = torch.from_numpy(np.fromfile(os.path.join(folder, "ids.bin"), dtype="<i4").astype("int64")).view(b, t)
    targets = torch.from_numpy(np.fromfile(os.path.join(folder, "targets.bin"), dtype="<i4").astype("int64")).view(b, t)

    p = params
    x = p["tok_embeddings.weight"][ids]  # [B, T, C]
    aux_total = None
    for layer in range(c["layers"]):
        pre = f"layers.{layer}."
        x = x + attention(rms_norm(x, p[pre + "attention_norm.weight"], c["normEps"]), p, pre + "attention.", c)
        h = rms_norm(x, p[pre + "ffn_norm.weight"], c["normEps"])
        if c.get("moe"):
            y, aux = moe_ffn(h, p, pre + "feed_forward.", c)
            aux_total = aux if aux_total is None else aux_total + aux
        else:
            y = swiglu_ffn(h, p, pre + "feed_forward.")
        x = x + y
    x = rms_norm(x, p["norm.weight"], c["normEps"])
    out_w = p["tok_embeddings.weight"] if c["tieEmbeddings"] else p["output.weight"]
    logits = x @ out_w.T  # [B, T, V]
    ce = F.cross_entropy(logits.reshape(b * t, -1), targets.reshape(-1), ignore_index=spec["ignoreIndex"])
    loss = ce
    if aux_total is not None:
        loss = loss + c["moe"].get("auxLossWeight", 0.01) * aux_total
    loss.backward()

    logits.detach().numpy().astype("<f4").tofile(os.path.join(folder, "logits.bin"))
    grads = [params[e["name"]].grad.reshape(-1) for e in spec["params"]]
    torch.cat(grads).numpy().astype("<f4").tofile(os.path.join(folder, "grads.bin"))
    with open(os.path.join(folder, "loss.json"), "w") as f:
        json.dump({"loss": loss.item(), "cross_entropy": ce.item(), "aux_loss": None if aux_total is None else aux_total.item()}, f)


if __name__ == "__main__":
    main()
