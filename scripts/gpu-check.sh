#!/usr/bin/env bash
# The GPU figures of issue #18, for a session lent a GPU machine (the device tool). That machine is bare (no .NET SDK,
# no network), so the benchmark travels as one self-contained, compressed executable.
#
#   scripts/gpu-check.sh prepare     # here: publishes bench/ConvService.Benchmarks to .gpu-bench/ (git-ignored)
#   device run, carry [".gpu-bench"], command: scripts/gpu-check.sh run
#
# `run` prints the device, then for the tutorial's convolution (3000² ⊛ 4², full, stride 5) and a bank of 16 4×4
# filters (stride 1 and 5) the median launch time with the inputs resident on the device, with the download, the first
# call, and the largest difference from the CPU direct method; the output also goes to $OUT/gpu-check.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  prepare)
    dotnet publish bench/ConvService.Benchmarks -c Release -r linux-x64 --self-contained -o .gpu-bench \
      -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -v q -nologo
    du -sh .gpu-bench ;;
  run)
    out=${OUT:-/tmp}
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$out/gpu-check.txt" || true
    ./.gpu-bench/ConvService.Benchmarks --gpu --device cuda --size 3000 --filters 16 --repeat 30 2>&1 | tee -a "$out/gpu-check.txt" ;;
  *) echo "usage: scripts/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
