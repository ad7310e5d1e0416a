#!/bin/sh
# The prepared GPU run (one call on the lent machine, from the repository root, ≤ 560 s in all):
#   sh bench/gpu/device-run.sh
# Unpacks node, the Vulkan loader and node-llama-cpp (CPU prebuilt) from bench/gpu/pack/ (see
# pack.sh), points Dawn at NVIDIA's Vulkan driver, then runs, each under its own time cap:
#   kernel tests on the adapter (90 s) · GPU llama tests (60 s) · matmul sweep (100 s, --quick) ·
#   training bench (170 s) · generation bench vs llama.cpp CPU (100 s)
# Results go to $OUT (or bench/out/) as JSON, TAP and logs. Everything it runs is in the pack.
set -u
PACK="$(pwd)/bench/gpu/pack"
RES="${OUT:-bench/out}"
mkdir -p "$RES"
TMPN="$(mktemp -d)"
xz -d -c "$PACK/node.xz" > "$TMPN/node" && chmod +x "$TMPN/node"
export PATH="$TMPN:$PATH"
for f in "$PACK"/debs/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
ldconfig 2>/dev/null || true
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
# The bundles import "webgpu" and "node-llama-cpp": resolve them from a node_modules folder beside them.
mkdir -p "$PACK/node_modules" && rm -rf "$PACK/node_modules/webgpu" && cp -r "$PACK/webgpu" "$PACK/node_modules/webgpu"
[ -e "$PACK/llamacpp-cpu.tar.xz" ] && xz -d -c "$PACK/llamacpp-cpu.tar.xz" | tar -xf - -C "$PACK/node_modules"
{ node --version; nvidia-smi -L 2>&1; nproc; } > "$RES/env.txt"
cd "$PACK"
echo "== kernel tests on the adapter"
timeout 90 node --test --test-reporter=tap kernels-device.test.mjs > "$RES/kernels-device.tap" 2>&1
echo "exit $?"; grep -E "^# (pass|fail|skipped)|^not ok|max abs|adapter:" "$RES/kernels-device.tap" | head -20
echo "== GPU llama tests (step gradients, AdamW steps, inference) on the adapter"
timeout 60 node --test --test-reporter=tap gpu-device.test.mjs > "$RES/gpu-device.tap" 2>&1
echo "exit $?"; grep -E "^# (pass|fail|skipped)|^not ok|vs|differ" "$RES/gpu-device.tap" | head -20
echo "== matmul sweep"
timeout 100 node matmul-bench.mjs "$RES/gpu-matmul.json" --quick > "$RES/gpu-matmul.log" 2>&1
echo "exit $?"; tail -25 "$RES/gpu-matmul.log"
echo "== training bench"
timeout 170 node train-bench.mjs "$RES/gpu-train.json" --budget 25 > "$RES/gpu-train.log" 2>&1
echo "exit $?"; tail -12 "$RES/gpu-train.log"
echo "== generation bench"
timeout 100 node gen-bench.mjs "$RES/gpu-gen.json" > "$RES/gpu-gen.log" 2>&1
echo "exit $?"; tail -8 "$RES/gpu-gen.log"
