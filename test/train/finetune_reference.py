"""PyTorch reference for Strata's LoRA and DPO (test/train/finetune-reference.test.ts runs it with
/usr/bin/python3). Hand-written from the papers, no Strata code.

Reads from the folder argv[1]:
  spec.json    {"config": LlamaConfig, "shape": [R, T], "params": [{name, shape}], "adapters": [{name, shape}],
                "alpha": a, "mode": "sft" | "dpo", "beta": b}
  base.bin     float32, the base parameters in "params" order (frozen)
  adapter.bin  float32, the adapter tensors (<linear>.lora_a [r, in], .lora_b [out, r]) in "adapters" order
  ids.bin, targets.bin   int32 [R, T]; targets -100 are not scored
Writes: loss.json {"loss"}, grads.bin (d loss / d adapter tensor, "adapters" order).

LoRA (Hu et al. 2021): y = x W^T + (alpha / r) * (x A^T) B^T.
SFT: mean cross-entropy over scored targets.
DPO (Rafailov et al. 2023): rows are R/2 chosen then R/2 rejected; s(row) = sum of log p(target) over
scored targets; z = beta * ((s_pi(c) - s_ref(c)) - (s_pi(r) - s_ref(r))); loss = -mean(log sigmoid(z)),
the reference being the same model with the adapters off.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def load(folder, name, dtype="<f4"):
    return torch.from_numpy(np.fromfile(os.path.join(folder, name), dtype=dtype).copy())


def unpack(raw, entries, grad):
    out, o = {}, 0
    for e in entries:
        n = math.prod(e["shape"])
        out[e["name"]] = raw[o : o + n].clone().view(*e["shape"]).requires_grad_(grad)
        o += n
    assert o == raw.numel()
    return out


def norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, base):
    _, t, _, d = x.shape
    i = torch.arange(d // 2, dtype=torch.float64)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * base ** (-2.0 * i / d)[None, :]
    cos, sin = ang.cos().float()[None, :, None, :], ang.sin().float()[None, :, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


class Model:
    def __init__(self, c, base, adapters, alpha):
        self.c, self.p, self.ad, self.alpha, self.on = c, base, adapters, alpha, True

    def proj(self, x, name):
        y = x @ self.p[name + ".weight"].T
        a = self.ad.get(name + ".lora_a")
        if self.on and a is not None:
            b = self.ad[name + ".lora_b"]
            y = y + (self.alpha / a.shape[0]) * ((x @ a.T) @ b.T)
        return y

    def logits(self, ids):
        c, p = self.c, self.p
        bsz, t = ids.shape
        h, hkv = c["heads"], c["kvHeads"]
        d = c["dim"] // h
        x = p["tok_embeddings.weight"][ids]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        for layer in range(c["layers"]):
            pre = f"layers.{layer}."
            u = norm(x, p[pre + "attention_norm.weight"], c["normEps"])
            q = rotate(self.proj(u, pre + "attention.wq").view(bsz, t, h, d), c["ropeBase"])
            k = rotate(self.proj(u, pre + "attention.wk").view(bsz, t, hkv, d), c["ropeBase"])
            v = self.proj(u, pre + "attention.wv").view(bsz, t, hkv, d)
            k, v = k.repeat_interleave(h // hkv, dim=2), v.repeat_interleave(h // hkv, dim=2)
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            s = (q @ k.transpose(-1, -2) / math.sqrt(d)).masked_fill(causal, float("-inf"))
            o = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(bsz, t, h * d)
            x = x + self.proj(o, pre + "attention.wo")
            u = norm(x, p[pre + "ffn_norm.weight"], c["normEps"])
            f = pre + "feed_forward."
            x = x + self.proj(F.silu(self.proj(u, f + "w1")) * self.proj(u, f + "w3"), f + "w2")
        x = norm(x, p["norm.weight"], c["normEps"])
        w = p["tok_embeddings.weight"] if c["tieEmbeddings"] else p["output.weight"]
        return x @ w.T


def seq_logps(logits, targets):
    mask = targets != -100
    safe = torch.where(mask, targets, torch.zeros_like(targets))
    lp = torch.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return (lp * mask).sum(-1)


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "spec.json")) as f:
        spec = json.load(f)
    r, t = spec["shape"]
    base = unpack(load(folder, "base.bin"), spec["params"], False)
    adapters = unpack(load(folder, "adapter.bin"), spec["adapters"], True)
    ids = load(folder, "ids.bin", "<i4").long().view(r, t)
    targets = load(folder, "targets.bin", "<i4").long().view(r, t)
    m = Model(spec["config"], base, adapters, spec["alpha"])
    if spec["mode"] == "sft":
        loss = F.cross_entropy(m.logits(ids).reshape(r * t, -1), targets.reshape(-1), ignore_index=-100)
    else:
        with torch.no_grad():
            m.on = False
            ref = seq_logps(m.logits(ids), targets)
            m.on = True
        pol = seq_logps(m.logits(ids), targets)
        half = r // 2
        z = spec["beta"] * ((pol[:half] - ref[:half]) - (pol[half:] - ref[half:]))
        loss = -F.logsigmoid(z).mean()
    loss.backward()
    grads = torch.cat([adapters[e["name"]].grad.reshape(-1) for e in spec["adapters"]])
    grads.numpy().astype("<f4").tofile(os.path.join(folder, "grads.bin"))
    with open(os.path.join(folder, "loss.json"), "w") as f:
        json.dump({"loss": loss.item()}, f)


if __name__ == "__main__":
    main()
