"""PyTorch timing reference for bench/diffusion.ts: the same DiT (see test/nn/dit_reference.py for the
parity-checked forward) trained for a few steps on random images, forward + backward + AdamW.

argv[1]: a JSON file {config: DitConfig, batch, steps, threads}; prints {"imagesPerSecond", "msPerStep"}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

spec = json.load(open(sys.argv[1]))
c = spec["config"]
torch.set_num_threads(spec.get("threads", 1))
torch.manual_seed(0)
D, NH, p, C, H = c["dim"], c["heads"], c["patch"], c["channels"], c["image"]
h = H // p
N = h * h


def ln(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ada = nn.Linear(D, 6 * D)
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(D, D) for _ in range(4))
        self.fc1 = nn.Linear(D, c["mlpRatio"] * D)
        self.fc2 = nn.Linear(c["mlpRatio"] * D, D)

    def forward(self, x, sc):
        B = x.shape[0]
        sh1, s1, g1, sh2, s2, g2 = self.ada(sc).chunk(6, dim=1)
        y = ln(x) * (1 + s1[:, None]) + sh1[:, None]
        q, k, v = (f(y).view(B, N, NH, D // NH).transpose(1, 2) for f in (self.wq, self.wk, self.wv))
        a = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // NH), -1) @ v
        x = x + g1[:, None] * self.wo(a.transpose(1, 2).reshape(B, N, D))
        y = ln(x) * (1 + s2[:, None]) + sh2[:, None]
        return x + g2[:, None] * self.fc2(F.silu(self.fc1(y)))


class DiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Linear(p * p * C, D)
        self.pos = nn.Parameter(torch.randn(N, D) * 0.02)
        self.t1, self.t2 = nn.Linear(c["freqDim"], D), nn.Linear(D, D)
        self.cond = nn.Embedding(c["prompts"] + 1, D)
        self.blocks = nn.ModuleList(Block() for _ in range(c["depth"]))
        self.fada, self.out = nn.Linear(D, 2 * D), nn.Linear(D, p * p * C)

    def forward(self, x, t, rows):
        B = x.shape[0]
        x = self.patch(x.view(B, C, h, p, h, p).permute(0, 2, 4, 3, 5, 1).reshape(B, N, p * p * C)) + self.pos
        half = c["freqDim"] // 2
        ang = t.float()[:, None] * torch.exp(-math.log(10000) * torch.arange(half) / half)[None]
        sc = F.silu(self.t2(F.silu(self.t1(torch.cat([ang.cos(), ang.sin()], -1)))) + self.cond(rows))
        for b in self.blocks:
            x = b(x, sc)
        sh, s = self.fada(sc).chunk(2, dim=1)
        o = self.out(ln(x) * (1 + s[:, None]) + sh[:, None])
        return o.view(B, h, h, p, p, C).permute(0, 5, 1, 3, 2, 4).reshape(B, C, H, H)


m = DiT()
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0)
B = spec["batch"]
abar = torch.linspace(0.999, 0.001, c["timesteps"])


def step():
    x0 = torch.rand(B, C, H, H) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.randint(0, c["timesteps"], (B,))
    rows = torch.randint(0, c["prompts"] + 1, (B,))
    a = abar[t].view(B, 1, 1, 1)
    loss = ((m(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, rows) - noise) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()


step()
t0 = time.perf_counter()
for _ in range(spec["steps"]):
    step()
dt = time.perf_counter() - t0
print(json.dumps({"imagesPerSecond": B * spec["steps"] / dt, "msPerStep": 1000 * dt / spec["steps"]}))
