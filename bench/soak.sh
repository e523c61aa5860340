#!/usr/bin/env bash
# Soak test: 100,000 requests of random shapes (B = 1..4, S = 1..512) through one synthetic
# DistilBERT with a 2-thread pool, RSS read from /proc/self/statm as it goes; fails if the RSS
# grows by more than 1 MiB after warm-up (the first 10% of requests), if a logit is not finite,
# or if the first request, repeated at the end, gives different logits. See bench/soak.cpp.
#
#   bash bench/soak.sh [soak options]       e.g. --requests 20000, or --base --requests 500
#
# Options go to the soak binary: --requests N, --every K, --threads T, --seed S, --base
# (distilbert_base instead of the small model), --workspace-per-request.
# Builds it in $BUILD (default build-soak), Release, BC1S_ARCH=${BC1S_ARCH:-native}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-soak}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBC1S_BUILD_BENCH=ON -DBC1S_BUILD_TESTS=OFF \
  -DBC1S_BUILD_EXAMPLES=OFF -DBC1S_ARCH="${BC1S_ARCH:-native}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target soak >/dev/null
exec "$BUILD/bench/soak" "$@"
