"""PyTorch reference for Strata's AdamW (test/train/optimizer.test.ts runs it with /usr/bin/python3).

Reads from the folder given as argv[1]:
  config.json   {"lr": [per step], "beta1", "beta2", "eps", "weight_decay", "params": [{"name", "size", "decay"}], "steps"}
  params.bin    float32, the initial parameters concatenated in that order
  grads.bin     float32, steps × the gradients concatenated in that order
Writes out.bin: float32, the final parameters, then exp_avg, then exp_avg_sq (each concatenated).
"""
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
d = sys.argv[1]
cfg = json.load(open(os.path.join(d, "config.json")))
flat = np.fromfile(os.path.join(d, "params.bin"), dtype="<f4")
grads = np.fromfile(os.path.join(d, "grads.bin"), dtype="<f4").reshape(cfg["steps"], -1)
params, o = [], 0
for p in cfg["params"]:
    params.append(torch.nn.Parameter(torch.from_numpy(flat[o:o + p["size"]].copy())))
    o += p["size"]
groups = [
    {"params": [t for t, p in zip(params, cfg["params"]) if p["decay"]], "weight_decay": cfg["weight_decay"]},
    {"params": [t for t, p in zip(params, cfg["params"]) if not p["decay"]], "weight_decay": 0.0},
]
opt = torch.optim.AdamW(groups, lr=cfg["lr"][0], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"], foreach=False)
for s in range(cfg["steps"]):
    o = 0
    for t, p in zip(params, cfg["params"]):
        t.grad = torch.from_numpy(grads[s, o:o + p["size"]].copy())
        o += p["size"]
    for g in opt.param_groups:
        g["lr"] = cfg["lr"][s]
    opt.step()
out = [t.detach().numpy() for t in params]
out += [opt.state[t]["exp_avg"].numpy() for t in params]
out += [opt.state[t]["exp_avg_sq"].numpy() for t in params]
np.concatenate(out).astype("<f4").tofile(os.path.join(d, "out.bin"))
