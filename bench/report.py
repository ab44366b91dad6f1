#!/usr/bin/env python3
"""Puts lutforge-bench's and the peers' figures from one run side by side: prints the table
and writes bench/results.json. Called by bench/run.sh with the JSON files it collected."""
import json, platform, subprocess, sys

r = {k: json.load(open(v)) for k, v in (arg.split("=", 1) for arg in sys.argv[2:])}
g, m, o = r["gemv"], r["numpy"], r["ort"]
rows = []
def row(name, ours, peer, peer_s, goal=None):
    rows.append({"benchmark": name, "ours_s": ours, "peer": peer, "peer_s": peer_s, "speedup": peer_s / ours, "goal": goal})
shape = f"{g['rows']}x{g['cols']} v={g['v']} Ka={g['ka']} Kw={g['kw']} S={g['s']}"
row(f"LUT-GEMV {shape}, 1 thread", g["seconds_1"], "onnxruntime f32 MatMul, 1 thread", o["onnxruntime_1"], 4.0)
row(f"LUT-GEMV {shape}, {g['threads']} threads", g["seconds_all"], f"onnxruntime f32 MatMul, {o['threads']} threads", o["onnxruntime_all"])
row(f"LUT-GEMV {shape}, 1 thread", g["seconds_1"], "numpy f32 matvec, 1 thread", m["numpy_1"])
row(f"LUT-GEMV {shape}, {g['threads']} threads", g["seconds_all"], f"numpy f32 matvec, {m['threads']} threads", m["numpy_all"])
row(f"LUT-GEMV {shape}, 1 thread", g["seconds_1"], f"bandwidth roofline ({g['bytes'] / 1e6:.2f} MB)", g["roofline_seconds"], 0.5)
row(f"LUT-GEMV {shape}, 1 thread", g["seconds_1"], "our interpreter (--checked), 1 thread", g["seconds_checked_1"])
row(f"LUT-GEMV {shape}, 1 thread, layer in cache", g["seconds_resident_1"], "the same, streaming from DRAM", g["seconds_1"])
for key, label, goal in [("km2", "k-means 1M x d=2, K=256", 1.0), ("km4", "k-means 1M x d=4, K=256", 1.0), ("kmsmall", "k-means many small", 3.0)]:
    ours, peer = r[key + "_ours"], r[key + "_faiss"]
    name = label if key != "kmsmall" else f"k-means {ours['problems']} problems x {ours['n']} x d={ours['d']}, K={ours['k']}"
    row(f"{name}, {ours['iterations']} iterations", ours["seconds"], f"faiss-cpu {peer['faiss_version']}, {peer['threads']} threads", peer["faiss"], goal)

def fmt(s): return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"machine: {cpu}, {g['threads']} cores; copy bandwidth {g['copy_bandwidth'] / 1e9:.2f} GB/s (read + write, memcpy of 256 MiB)")
print(f"our LUT loop: {g['loop']}; numpy BLAS: " + ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in m["numpy_blas"]))
print()
print("| benchmark | ours | peer | peer's | peer ÷ ours | goal |")
print("|---|---|---|---|---|---|")
for x in rows:
    goal = "" if x["goal"] is None else (f"≥ {x['goal']:g}× " + ("met" if x["speedup"] >= x["goal"] else "missed"))
    print(f"| {x['benchmark']} | {fmt(x['ours_s'])} | {x['peer']} | {fmt(x['peer_s'])} | {x['speedup']:.2f}× | {goal} |")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
json.dump({"commit": commit, "machine": cpu, "rows": rows, "raw": r}, open(sys.argv[1], "w"), indent=1, sort_keys=True)
print(f"\n-> {sys.argv[1]}")
