#!/usr/bin/env bash
# Every benchmark in one run: builds lutforge-bench in release mode, installs the peers
# (onnxruntime, numpy, faiss-cpu, threadpoolctl) into the project's environment when absent,
# times ours and theirs on the same shapes, prints one table and writes bench/results.json.
#   bash bench/run.sh            (about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lutforge-bench >/dev/null
bin="$(swift build -c release --show-bin-path)/lutforge-bench"
venv=.deps/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import onnx, onnxruntime, numpy, faiss, threadpoolctl" 2>/dev/null ||
    "$venv/bin/pip" install -q onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 faiss-cpu==1.15.1 threadpoolctl==3.8.0
py="$venv/bin/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
step() { echo "== $1" >&2; }
step "LUT-GEMV (ours)";             "$bin" lut-gemv > "$tmp/gemv.json"
step "onnxruntime MatMul";          "$py" bench/peers.py matvec > "$tmp/ort.json"
# numpy alone runs without the OpenBLAS overrides some machines set (its kernel is recorded).
step "numpy matvec";                env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" bench/peers.py numpy-matvec > "$tmp/numpy.json"
for d in 2 4; do
    step "k-means 1M, d=$d (ours, faiss)"
    "$bin" kmeans --n 1000000 --k 256 --d $d --iterations 20 > "$tmp/km$d-ours.json"
    "$py" bench/peers.py kmeans --n 1000000 --k 256 --d $d --iterations 20 > "$tmp/km$d-faiss.json"
done
step "k-means, many small problems (ours, faiss)"
"$bin" kmeans --n 512 --k 16 --d 2 --problems 16384 --iterations 20 --repeats 1 > "$tmp/kmsmall-ours.json"
"$py" bench/peers.py kmeans --n 512 --k 16 --d 2 --problems 16384 --iterations 20 > "$tmp/kmsmall-faiss.json"
"$py" bench/report.py bench/results.json gemv="$tmp/gemv.json" ort="$tmp/ort.json" numpy="$tmp/numpy.json" \
    km2_ours="$tmp/km2-ours.json" km2_faiss="$tmp/km2-faiss.json" km4_ours="$tmp/km4-ours.json" km4_faiss="$tmp/km4-faiss.json" \
    kmsmall_ours="$tmp/kmsmall-ours.json" kmsmall_faiss="$tmp/kmsmall-faiss.json"
