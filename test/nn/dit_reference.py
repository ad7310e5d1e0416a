"""PyTorch reference for Strata's diffusion transformer (test/nn/dit-torch.test.ts runs it with /usr/bin/python3).

Reads from the folder given as argv[1]:
  config.json   {config: DitConfig, batch: B, params: [{name, shape}], t: [B], rows: [B]}
  weights.bin   float32, the parameters concatenated in the order of params
  x0.bin, noise.bin  float32 [B, C, H, W]
Writes: grads.bin (d loss / d parameter, same order), out.json {loss, eps_first: first predicted values}

The model is written here in plain PyTorch from the DiT description (no Strata code): 2-D patches
in (p, q, c) order, learned positions, sinusoidal timestep features through Linear-SiLU-Linear,
a condition table, adaLN-Zero blocks (LayerNorm without affine, bidirectional multi-head attention,
Linear-SiLU-Linear MLP), a modulated final layer; DDPM cosine/linear schedule; MSE on the noise.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
d = sys.argv[1]
spec = json.load(open(os.path.join(d, "config.json")))
c = spec["config"]
B = spec["batch"]
flat = torch.from_numpy(__import__("numpy").fromfile(os.path.join(d, "weights.bin"), dtype="float32").copy())
P = {}
off = 0
for p in spec["params"]:
    n = 1
    for s in p["shape"]:
        n *= s
    P[p["name"]] = flat[off:off + n].view(*p["shape"]).clone().requires_grad_(True)
    off += n
np = __import__("numpy")
shape = (B, c["channels"], c["image"], c["image"])
x0 = torch.from_numpy(np.fromfile(os.path.join(d, "x0.bin"), dtype="float32").copy()).view(*shape)
noise = torch.from_numpy(np.fromfile(os.path.join(d, "noise.bin"), dtype="float32").copy()).view(*shape)
t = torch.tensor(spec["t"], dtype=torch.long)
rows = torch.tensor(spec["rows"], dtype=torch.long)

T = c["timesteps"]
if c["schedule"] == "linear":
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
else:
    f = lambda s: math.cos(((s / T) + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = torch.tensor([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)], dtype=torch.float64)
abar = torch.cumprod(1 - betas, 0)
a = abar[t].sqrt().view(B, 1, 1, 1).float()
s = (1 - abar[t]).sqrt().view(B, 1, 1, 1).float()
xt = a * x0 + s * noise


def lin(x, name):
    return F.linear(x, P[name + ".weight"], P.get(name + ".bias"))


def modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


def ln(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


p, C, H = c["patch"], c["channels"], c["image"]
h = H // p
x = xt.view(B, C, h, p, h, p).permute(0, 2, 4, 3, 5, 1).reshape(B, h * h, p * p * C)
x = lin(x, "patch_embed") + P["pos_embed"]
half = c["freqDim"] // 2
freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64) / half)
ang = t.double()[:, None] * freqs[None, :]
tf = torch.cat([ang.cos(), ang.sin()], -1).float()
cvec = lin(F.silu(lin(tf, "t_embed1")), "t_embed2") + P["cond_embed"][rows]
sc = F.silu(cvec)
D, NH = c["dim"], c["heads"]
for i in range(c["depth"]):
    b = "blocks.%d." % i
    sh1, s1, g1, sh2, s2, g2 = lin(sc, b + "ada").chunk(6, dim=1)
    y = modulate(ln(x), sh1, s1)
    q = lin(y, b + "wq").view(B, -1, NH, D // NH).transpose(1, 2)
    k = lin(y, b + "wk").view(B, -1, NH, D // NH).transpose(1, 2)
    v = lin(y, b + "wv").view(B, -1, NH, D // NH).transpose(1, 2)
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // NH), -1) @ v
    x = x + g1[:, None, :] * lin(att.transpose(1, 2).reshape(B, -1, D), b + "wo")
    y = modulate(ln(x), sh2, s2)
    x = x + g2[:, None, :] * lin(F.silu(lin(y, b + "fc1")), b + "fc2")
shf, scf = lin(sc, "final_ada").chunk(2, dim=1)
o = lin(modulate(ln(x), shf, scf), "final_out")
eps = o.view(B, h, h, p, p, C).permute(0, 5, 1, 3, 2, 4).reshape(*shape)
loss = ((eps - noise) ** 2).mean()
loss.backward()
torch.cat([P[q["name"]].grad.reshape(-1) for q in spec["params"]]).numpy().astype("float32").tofile(os.path.join(d, "grads.bin"))
json.dump({"loss": loss.item(), "eps_first": eps.reshape(-1)[:16].tolist()}, open(os.path.join(d, "out.json"), "w"))
