#!/bin/sh
# The prepared GPU run (one call on the lent machine, from the repository root):
#   sh bench/gpu/device-run.sh
# Unpacks node and the Vulkan loader from bench/gpu/pack/ (see pack.sh), points Dawn at NVIDIA's
# Vulkan driver, runs the kernel tests on the real adapter, then the matmul sweep; results go to
# $OUT (or bench/out/) as JSON and logs. Everything it runs is in the pack (carry bench/gpu/pack).
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
# The bundles import "webgpu": resolve it from a node_modules folder beside them.
mkdir -p "$PACK/node_modules" && rm -rf "$PACK/node_modules/webgpu" && cp -r "$PACK/webgpu" "$PACK/node_modules/webgpu"
node --version > "$RES/env.txt"; nvidia-smi -L >> "$RES/env.txt" 2>&1 || true
echo "== kernel tests on the adapter"
timeout 240 node --test --test-reporter=tap "$PACK/kernels-device.test.mjs" > "$RES/kernels-device.tap" 2>&1
echo "kernel tests exit $?"; grep -E "^# (pass|fail)|^not ok|max abs|adapter:" "$RES/kernels-device.tap" | head -40
echo "== matmul sweep"
timeout 300 node "$PACK/matmul-bench.mjs" "$RES/gpu-matmul.json" 2>&1 | tee "$RES/gpu-matmul.log" | tail -45
