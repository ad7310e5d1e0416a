#!/bin/sh
# Builds the folder the GPU machine needs (it has no Node and no package registry), as one
# git-ignored directory, bench/gpu/pack/ (≤ 60 MiB): an xz-compressed node binary, the webgpu
# package with only dist/linux-x64, Debian's Vulkan loader (+ glvnd) .deb files, and the device test
# and matmul benchmark bundled to plain .mjs files (the device has no tsx).
# Run from the repository root: sh bench/gpu/pack.sh
set -eu
PACK=bench/gpu/pack
rm -rf "$PACK"
mkdir -p "$PACK/webgpu/dist" "$PACK/debs"
xz -T2 -6 -c "$(command -v node)" > "$PACK/node.xz"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$PACK/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$PACK/webgpu/dist/"
(cd "$PACK/debs" && apt-get download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 2>&1 | tail -n 2) || echo "warning: apt-get download failed; bring the .deb files another way"
# The device has no tsx: bundle the device test and the benchmark into plain ESM (webgpu stays external).
for entry in test/tensor/webgpu/kernels-device.test.ts bench/gpu/matmul-bench.ts; do
  node_modules/.bin/esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --external:webgpu --log-level=warning \
    --outfile="$PACK/$(basename "$entry" .ts).mjs"
done
du -sh "$PACK"
du -sb "$PACK" | awk '{ if ($1 > 60 * 1048576) { print "pack exceeds 60 MiB"; exit 1 } }'
