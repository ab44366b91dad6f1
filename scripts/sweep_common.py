"""Shared by the sweep scripts: run lutforge, compile the digits example, measure it."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "digits")


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    return result.stdout


def lutforge_binary(given):
    """The given binary, or a freshly built release one."""
    if given:
        return given
    run(["swift", "build", "-c", "release", "--package-path", ROOT, "--product", "lutforge"])
    return os.path.join(ROOT, ".build", "release", "lutforge")


def measure(lutforge, design, flags):
    """Compiles digits with `flags` into `design` and returns its verify.json (Swift engine only)."""
    run([lutforge, "compile", os.path.join(EXAMPLE, "digits.onnx"), "-o", design] + flags)
    run([lutforge, "verify", design, "--simulators", "none", "--inputs", os.path.join(EXAMPLE, "X_test.npy"),
         "--labels", os.path.join(EXAMPLE, "y_test.npy"), "--model", os.path.join(EXAMPLE, "digits.onnx")])
    with open(os.path.join(design, "verify.json")) as f:
        return json.load(f)
