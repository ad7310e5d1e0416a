# Does a learned (non-linear) selector over the answerer's features beat the linear rank weights?
# Leave-one-article-out on a feature dump of bench/answer-quality.ts --dump: a listwise linear model
# and a one-hidden-layer MLP (16 tanh units), each trained to put a gold sentence first (softmax over
# a question's candidates), scored on the held-out article. A reference measurement with PyTorch
# (Debian's python3-torch); nothing here ships.
#
#   /usr/bin/python3 bench/reference/answer-selector-cv.py <dump.jsonl>
import json, sys
import torch

torch.manual_seed(0)
rows = [json.loads(l) for l in open(sys.argv[1])]
ans = [r for r in rows if r["set"] == "answerable" and r["candidates"]]
# Features that vary within a question (the margin and negation are support-only).
keys = [k for k in ans[0]["candidates"][0]["f"] if k not in ("margin", "negationMismatch")]
width = max(len(r["candidates"]) for r in ans)
X = torch.zeros(len(ans), width, len(keys))
Y = torch.zeros(len(ans), width)
mask = torch.zeros(len(ans), width, dtype=torch.bool)
for i, r in enumerate(ans):
    for j, c in enumerate(r["candidates"]):
        X[i, j] = torch.tensor([float(c["f"][k]) for k in keys])
        Y[i, j] = c["gold"]
        mask[i, j] = True
titles = [r["title"] for r in ans]


def fit(x, y, m, hidden):
    net = torch.nn.Sequential(torch.nn.Linear(len(keys), hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)) if hidden else torch.nn.Linear(len(keys), 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.01 if hidden else 0.05)
    keep = y.sum(1) > 0
    x, y, m = x[keep], y[keep], m[keep]
    for _ in range(300):
        lp = torch.log_softmax(net(x).squeeze(2).masked_fill(~m, -1e9), 1)
        loss = -lp.masked_fill(y == 0, -1e9).logsumexp(1).mean() + 1e-3 * sum((p ** 2).sum() for p in net.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


for hidden in (0, 16):
    hits = torch.zeros(len(ans))
    for t in sorted(set(titles)):
        te = torch.tensor([x == t for x in titles])
        net = fit(X[~te], Y[~te], mask[~te], hidden)
        with torch.no_grad():
            s = net(X[te]).squeeze(2).masked_fill(~mask[te], -1e9)
            hits[te] = Y[te].gather(1, s.argmax(1, keepdim=True)).squeeze(1)
    print(f"{'MLP 16' if hidden else 'linear'}: held-out top-1 (gold sentence first, no abstention) {hits.mean():.3f}")
