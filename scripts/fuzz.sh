#!/usr/bin/env bash
# Fuzzes one reader of user files with libFuzzer and AddressSanitizer.
#   scripts/fuzz.sh onnx|npy|config [RUNS] [extra libFuzzer flags]
# Builds `lutforge-fuzz` into .build-fuzz (release, -sanitize=fuzzer,address),
# then runs RUNS executions (default 1000000) starting from the seed corpus in
# Fuzz/corpus/TARGET plus a growing work corpus in .build-fuzz/corpus/TARGET.
# Crashes, timeouts and out-of-memory inputs are written to .build-fuzz/artifacts/TARGET/;
# copy each into Fuzz/regressions/TARGET/ (the tests replay that directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: scripts/fuzz.sh onnx|npy|config [RUNS] [libFuzzer flags]}
runs=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))
cd "$root"
swift build -c release --build-path .build-fuzz --product lutforge-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library
mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/artifacts/$target"
# -rss_limit_mb / -malloc_limit_mb turn unbounded allocation into a failure; -timeout a hang.
LUTFORGE_FUZZ_TARGET="$target" ".build-fuzz/release/lutforge-fuzz" \
  ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
  -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536 \
  -artifact_prefix=".build-fuzz/artifacts/$target/" -print_final_stats=1 "$@"
