"""PyTorch side of bench/train.ts: the same llama, optimizer, schedule and recipe in plain PyTorch.

Run with Debian's python3-torch: /usr/bin/python3 bench/train_reference.py <job.json>. The job says
{"mode": "throughput" | "recipe", "threads", "model": {vocab, dim, layers, heads, kvHeads, ffnDim,
maxSeq, ropeBase, normEps}, "train": {batchSize, blockSize, lr, minLr, warmupSteps, decaySteps,
weightDecay, beta1, beta2, eps, gradClip, evalInterval, evalBatches, valFraction, seed}, "steps",
"warmup" (throughput), "data" (recipe: a text file, byte-level)} and prints one JSON line.

The model is Strata's llama written out in PyTorch (as test/nn/llama_reference.py, which checks the
two agree to 1e-4): RMSNorm, RoPE on interleaved pairs, causal multi-head attention (torch 1.13 has
no scaled_dot_product_attention, so nanoGPT's explicit form), SwiGLU, untied output; initialised
normal(0.02), residual projections 0.02/sqrt(2L), norms 1. AdamW with decay on 2-D weights except the
embedding, nanoGPT's warm-up + cosine schedule, clip_grad_norm_, random windows (torch.randint).
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(t, d, base):
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * base ** (-2.0 * i / d)[None, :]
    return angles.cos().float(), angles.sin().float()


def rope(x, cos, sin):
    # x [B, T, H, D]; the pair (x[2i], x[2i+1]) rotated by t * base^(-2i/D)
    t = x.shape[1]
    c = cos[:t][None, :, None, :]
    s = sin[:t][None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, H, Hkv, Fd = c["dim"], c["heads"], c["kvHeads"], c["ffnDim"]
        D = C // H
        self.H, self.Hkv, self.D = H, Hkv, D
        self.attention_norm = RMSNorm(C, c["normEps"])
        self.wq = nn.Linear(C, H * D, bias=False)
        self.wk = nn.Linear(C, Hkv * D, bias=False)
        self.wv = nn.Linear(C, Hkv * D, bias=False)
        self.wo = nn.Linear(H * D, C, bias=False)
        self.ffn_norm = RMSNorm(C, c["normEps"])
        self.w1 = nn.Linear(C, Fd, bias=False)
        self.w2 = nn.Linear(Fd, C, bias=False)
        self.w3 = nn.Linear(C, Fd, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        h = self.attention_norm(x)
        q = rope(self.wq(h).view(B, T, self.H, self.D), cos, sin).transpose(1, 2)
        k = rope(self.wk(h).view(B, T, self.Hkv, self.D), cos, sin).transpose(1, 2)
        v = self.wv(h).view(B, T, self.Hkv, self.D).transpose(1, 2)
        if self.Hkv != self.H:
            k = k.repeat_interleave(self.H // self.Hkv, dim=1)
            v = v.repeat_interleave(self.H // self.Hkv, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.D))
        att = att.masked_fill(mask[:T, :T] == 0, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok_embeddings = nn.Embedding(c["vocab"], c["dim"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["dim"], c["normEps"])
        self.output = nn.Linear(c["dim"], c["vocab"], bias=False)
        cos, sin = rope_tables(c["maxSeq"], c["dim"] // c["heads"], c["ropeBase"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.tril(torch.ones(c["maxSeq"], c["maxSeq"])), persistent=False)
        out_std = 0.02 / math.sqrt(2 * c["layers"])
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                continue
            torch.nn.init.normal_(p, 0.0, out_std if name.endswith(("wo.weight", "w2.weight")) else 0.02)

    def forward(self, idx, targets):
        x = self.tok_embeddings(idx)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        logits = self.output(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def lr_at(step, t):
    if step < t["warmupSteps"]:
        return t["lr"] * (step + 1) / (t["warmupSteps"] + 1)
    if step > t["decaySteps"] or t["decaySteps"] <= t["warmupSteps"]:
        return t["minLr"]
    ratio = (step - t["warmupSteps"]) / (t["decaySteps"] - t["warmupSteps"])
    return t["minLr"] + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (t["lr"] - t["minLr"])


def make_optimizer(model, t):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("tok_embeddings.")]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith("tok_embeddings."))]
    groups = [{"params": decay, "weight_decay": t["weightDecay"]}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"])


def train_step(model, opt, x, y, lr, clip):
    for g in opt.param_groups:
        g["lr"] = lr
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


def main():
    job = json.load(open(sys.argv[1]))
    torch.set_num_threads(job.get("threads", 1))
    c, t = job["model"], job["train"]
    torch.manual_seed(t.get("seed", 1337))
    model = Llama(c)
    params = sum(p.numel() for p in model.parameters())
    opt = make_optimizer(model, t)
    B, T = t["batchSize"], t["blockSize"]
    if job["mode"] == "throughput":
        g = torch.Generator().manual_seed(1)
        batches = [(torch.randint(c["vocab"], (B, T), generator=g), torch.randint(c["vocab"], (B, T), generator=g)) for _ in range(job["warmup"] + job["steps"])]
        for i in range(job["warmup"]):
            train_step(model, opt, *batches[i], t["lr"], t["gradClip"])
        t0 = time.perf_counter()
        for i in range(job["steps"]):
            train_step(model, opt, *batches[job["warmup"] + i], t["lr"], t["gradClip"])
        secs = time.perf_counter() - t0
        print(json.dumps({"parameters": params, "steps": job["steps"], "seconds": secs, "tokensPerSecond": job["steps"] * B * T / secs, "torch": torch.__version__, "threads": torch.get_num_threads()}))
        return

    data = torch.from_numpy(np.fromfile(job["data"], dtype=np.uint8).astype(np.int64))
    n_val = int(math.floor(len(data) * t["valFraction"]))
    train_data, val_data = data[: len(data) - n_val], data[len(data) - n_val:]

    def batch(split):
        d = train_data if split == "train" else val_data
        ix = torch.randint(len(d) - T, (B,))
        return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

    @torch.no_grad()
    def estimate():
        out = {}
        for split in ("train", "val"):
            out[split] = sum(model(*batch(split)).item() for _ in range(t["evalBatches"])) / t["evalBatches"]
        return out

    steps = job["steps"]
    history, evals = [], []
    step_secs = 0.0
    t0 = time.perf_counter()
    for step in range(steps):
        s0 = time.perf_counter()
        x, y = batch("train")
        history.append(train_step(model, opt, x, y, lr_at(step, t), t["gradClip"]))
        step_secs += time.perf_counter() - s0
        if (step + 1) % t["evalInterval"] == 0 or step + 1 == steps:
            evals.append({"step": step + 1, **estimate()})
    wall = time.perf_counter() - t0

    # The whole validation span in consecutive windows of T (+1 target): the figure compared with Strata's.
    with torch.no_grad():
        starts = list(range(0, len(val_data) - T, T))
        total, count = 0.0, 0
        for i in range(0, len(starts), 64):
            ix = starts[i:i + 64]
            x = torch.stack([val_data[s:s + T] for s in ix])
            y = torch.stack([val_data[s + 1:s + 1 + T] for s in ix])
            total += model(x, y).item() * len(ix)
            count += len(ix)
    print(json.dumps({"parameters": params, "steps": steps, "wallSeconds": wall, "tokensPerSecond": steps * B * T / step_secs, "evals": evals,
                      "fullValLoss": total / count, "fullValWindows": count, "lossAt": {str(k): history[k - 1] for k in (1, 100, 500, 1000, steps) if k <= steps},
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
