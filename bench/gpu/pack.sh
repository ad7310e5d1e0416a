#!/bin/sh
# Builds the folder the GPU machine needs (it has no Node and no package registry), as one
# git-ignored directory, bench/gpu/pack/ (≤ 60 MiB): an xz-compressed node binary, the webgpu
# package with only dist/linux-x64, Debian's Vulkan loader (+ glvnd) .deb files, node-llama-cpp with
# only its CPU prebuilt (xz tarball, for the llama.cpp reference; its 34 MB llama.cpp source bundle is
# left out: build "never" does not need it), and the device tests and benchmarks bundled to plain
# .mjs files (the device has no tsx).
# Run from the repository root: sh bench/gpu/pack.sh
set -eu
PACK=bench/gpu/pack
rm -rf "$PACK"
mkdir -p "$PACK/webgpu/dist" "$PACK/debs"
xz -T2 -6 -c "$(command -v node)" > "$PACK/node.xz"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$PACK/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$PACK/webgpu/dist/"
(cd "$PACK/debs" && apt-get download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 2>&1 | tail -n 2) || echo "warning: apt-get download failed; bring the .deb files another way"
# node-llama-cpp and its dependency closure, CPU prebuilt only.
DEPS=$(node -e '
const { readFileSync, existsSync } = require("node:fs");
const seen = new Set();
const walk = (n) => { const p = `node_modules/${n}/package.json`; if (seen.has(n) || !existsSync(p)) return; seen.add(n);
  for (const d of Object.keys(JSON.parse(readFileSync(p, "utf8")).dependencies ?? {})) walk(d); };
walk("node-llama-cpp"); console.log([...seen].join(" "));')
(cd node_modules && tar -cf - --exclude=node-llama-cpp/llama/gitRelease.bundle $DEPS @node-llama-cpp/linux-x64) | xz -T2 -6 > "$PACK/llamacpp-cpu.tar.xz"
# The device has no tsx: bundle tests and benchmarks into plain ESM (optional natives stay external).
for entry in test/tensor/webgpu/kernels-device.test.ts test/train/gpu-device.test.ts bench/gpu/matmul-bench.ts bench/gpu/train-bench.ts bench/gpu/gen-bench.ts; do
  node_modules/.bin/esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --external:webgpu --external:node-llama-cpp --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$PACK/$(basename "$entry" .ts).mjs"
done
du -sh "$PACK"
du -sb "$PACK" | awk '{ if ($1 > 60 * 1048576) { print "pack exceeds 60 MiB"; exit 1 } }'
