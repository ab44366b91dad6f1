#!/usr/bin/env bash
# Scale benchmark (issue 11): FINN's CNV-w2a2-sized network (scripts/testdata/cnv.py:
# about 1.5 M 2-bit weights, 32x32x3 UINT8 input, MultiThreshold activations, seeded
# random weights) through the release build of lutforge:
#   compile (default lanes, and examples/cnv/cnv.yaml's balanced lanes), estimate,
#   Verilator verification of 3 images, the Swift engine on 1,000 images, and qonnx's
#   executor (the peer, same run) on the first images, whose classes must be ours.
#     bash scripts/scale-cnv.sh [WORK_DIR] [PEER_IMAGES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/lutforge-cnv}
peer=${2:-20}
python="$root/.deps/venv/bin/python"
[ -x "$python" ] || { echo "scale-cnv: $python missing; run scripts/setup.sh" >&2; exit 1; }
cd "$root"
swift build -c release --product lutforge >/dev/null
bin="$(swift build -c release --show-bin-path)/lutforge"
rm -rf "$work" && mkdir -p "$work"
"$python" scripts/testdata/cnv.py "$work" 1000
model="$work/cnv/model.onnx"
"$python" -c "import numpy as np; x = np.load('$work/cnv/inputs.npy'); np.save('$work/cnv/first3.npy', x[:3])"

now() { date +%s.%N; }
secs() { "$python" -c "print(f'{$2 - $1:.1f}')"; }

t0=$(now); "$bin" compile "$model" -o "$work/default" --device arty-a7-100t >"$work/compile-default.log"; t1=$(now)
"$bin" compile "$model" -o "$work/balanced" --device arty-a7-100t --config examples/cnv/cnv.yaml >"$work/compile-balanced.log"; t2=$(now)
"$bin" estimate "$work/default" --device arty-a7-100t >"$work/estimate-default.txt"
"$bin" estimate "$work/balanced" --device arty-a7-100t >"$work/estimate-balanced.txt"
t3=$(now); "$bin" verify "$work/balanced" --inputs "$work/cnv/first3.npy" --simulators verilator >"$work/verify.txt"; t4=$(now)
"$bin" run "$work/balanced" --inputs "$work/cnv/inputs.npy" -o "$work/classes.npy" >/dev/null; t5=$(now)

"$python" - "$work" "$peer" <<'PY'
import sys, time
import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model
work, n = sys.argv[1], int(sys.argv[2])
model = cleanup_model(ModelWrapper(f"{work}/cnv/model.onnx"))
x = np.load(f"{work}/cnv/inputs.npy")[:n].astype(np.float32).reshape(n, 1, 3, 32, 32)
ours = np.load(f"{work}/classes.npy").reshape(-1)
t = time.time()
theirs = np.array([int(execute_onnx(model, {"global_in": v})["global_out"].reshape(-1)[0]) for v in x])
dt = time.time() - t
same = int((theirs == ours[:n]).sum())
print(f"qonnx executor: {dt / n * 1000:.0f} ms per image ({n} images); classes equal to the Swift engine's on {same} of {n}")
sys.exit(0 if same == n else 1)
PY
echo "compile (default lanes): $(secs $t0 $t1) s; compile (cnv.yaml): $(secs $t1 $t2) s"
grep -E "^verilator|^verdict" "$work/verify.txt"
echo "Verilator verification of 3 images (+ build): $(secs $t3 $t4) s"
echo "Swift engine, 1000 images: $(secs $t4 $t5) s ($("$python" -c "print(f'{($t5 - $t4) / 1000 * 1000:.1f}')") ms per image)"
for e in default balanced; do echo "estimate ($e): $(grep -E "^model|utilisation" "$work/estimate-$e.txt" | tr '\n' ' ')"; grep -E "latency|interval" "$work/estimate-$e.txt" | head -2; done
