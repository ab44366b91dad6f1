#!/usr/bin/env bash
# Regenerates the committed ONNX protobuf bindings from proto/onnx-subset.proto.
# Needs protoc (Debian protobuf-compiler) and builds protoc-gen-swift from the
# swift-protobuf version that Package.swift pins (about 80 s the first time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=1.39.0
work=${TMPDIR:-/tmp}/lutforge-protoc-gen-swift-$version
if [ ! -x "$work/.build/release/protoc-gen-swift" ]; then
  rm -rf "$work"
  git clone -q --branch "$version" https://github.com/apple/swift-protobuf "$work"
  (cd "$work" && swift build -c release --product protoc-gen-swift)
fi
out="$root/Sources/ModelImport/ONNX"
mkdir -p "$out"
protoc --plugin="protoc-gen-swift=$work/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Internal --swift_out="$out" \
  -I "$root/proto" "$root/proto/onnx-subset.proto"
echo "wrote $out/onnx-subset.pb.swift"
