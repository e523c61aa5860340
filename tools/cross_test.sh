#!/usr/bin/env bash
# The test suite with another toolchain.
#
#   bash tools/cross_test.sh clang-libcxx   # Debian's clang 14 with libc++ 14, warnings as errors
#   bash tools/cross_test.sh aarch64        # Debian's g++ 12 for arm64, the tests under qemu-user
#
# Installs what is missing from Debian's packages (clang-14, libc++-14-dev, libc++abi-14-dev,
# googletest's sources), builds GoogleTest with libc++ (Debian's libgtest.a is built against
# libstdc++, whose std::string a libc++ test cannot pass to it), then configures, builds and runs
# every CTest test of the library, its tests and its command-line tools (no benchmarks: Debian's
# Google Benchmark is a libstdc++ build too). The build lives in build-clang-libcxx/ (BUILD=...).
#
# aarch64: installs what is missing of g++-aarch64-linux-gnu and qemu-user, and of Debian's arm64
# GoogleTest, GoogleMock and utf8proc next to the amd64 ones (dpkg --add-architecture arm64), then
# cross compiles with cmake/toolchains/aarch64-linux-gnu.cmake and runs the tests under
# qemu-aarch64 (tools/run_tests.sh: warnings as errors, every CTest test of the build), twice:
#   v80  baseline ARMv8.0-A (BC1S_ARCH=portable, no -march) on qemu's cortex-a53
#   v82  -march=armv8.2-a+fp16+bf16+i8mm (fp16 arithmetic, BFDOT, USDOT) on qemu's max CPU
# The areas that depend on the architecture only (headers, core, simd, layout, kernels, nn,
# runtime, io, text): no command-line tools, fuzz replays, compile-fail or packaging tests, no
# benchmarks. Under emulation the slowest cases are sampled (about 10 min a run on 2 cores, half
# of it the build): GTEST_FILTER leaves out the real-model MiniLM parity (BertParity.MiniLm*),
# the distilbert-base parity cases (the small ones run every precision), the 3072 x 768 x 129
# conv1x1 shape (Conv1x1Shapes.*/7) and the no-allocation check, and BC1S_SST2_STRIDE=218 takes
# 4 SST-2 dev sentences, as in the sanitizer builds; set either variable to override.
# The builds live in build-aarch64-v80/ and build-aarch64-v82/ (BUILD=<prefix>).
# Further arguments go to both cmake configures (e.g. -DBC1S_TEST_AREAS=kernels).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  clang-libcxx | aarch64) ;;
  *)
    echo "usage: bash tools/cross_test.sh clang-libcxx|aarch64" >&2
    exit 2
    ;;
esac

if [[ "$mode" == aarch64 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  pkgs=(g++-aarch64-linux-gnu qemu-user cmake make libxsimd-dev xtensor-dev libeigen3-dev
        nlohmann-json3-dev libgtest-dev:arm64 libgmock-dev:arm64 libutf8proc-dev:arm64)
  update=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    update=1
  fi
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((update || ${#missing[@]})); then
    $SUDO apt-get update -q && $SUDO apt-get install -y -q "${missing[@]}"
  fi

  BUILD=${BUILD:-build-aarch64}
  export GTEST_FILTER=${GTEST_FILTER-"-BertParity.MiniLm*:DistilBertParity.Base*:Shapes/Conv1x1Shapes.*/7:DistilBert.ForwardMakesNoHeapAllocations"}
  export BC1S_SST2_STRIDE=${BC1S_SST2_STRIDE-218}
  for variant in "v80 portable cortex-a53" "v82 armv8.2-a+fp16+bf16+i8mm max"; do
    read -r name arch cpu <<<"$variant"
    start=$SECONDS
    BUILD="$BUILD-$name" bash tools/run_tests.sh \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake" \
      -DBC1S_ARCH="$arch" -DBC1S_QEMU_CPU="$cpu" -DBC1S_BUILD_BENCH=OFF -DBC1S_BUILD_EXAMPLES=OFF \
      "-DBC1S_TEST_AREAS=headers;core;simd;layout;kernels;nn;runtime;io;text" "${@:2}"
    echo "aarch64 $name ($arch on qemu -cpu $cpu): $((SECONDS - start)) s"
  done
  exit 0
fi

pkgs=(clang-14 libc++-14-dev libc++abi-14-dev googletest cmake make)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q && $SUDO apt-get install -y -q "${missing[@]}"
fi

BUILD=${BUILD:-build-clang-libcxx}
CXX_FLAGS="-stdlib=libc++"
jobs=$(nproc)

# GoogleTest and GoogleMock from Debian's sources, with libc++, into $BUILD/gtest.
if [[ ! -f "$BUILD/gtest/lib/cmake/GTest/GTestConfig.cmake" ]]; then
  cmake -S /usr/src/googletest -B "$BUILD/googletest-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_FLAGS="$CXX_FLAGS" \
    -DCMAKE_INSTALL_PREFIX="$PWD/$BUILD/gtest" >/dev/null
  cmake --build "$BUILD/googletest-build" -j"$jobs" --target install >/dev/null
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBC1S_WERROR=ON -DBC1S_BUILD_BENCH=OFF \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_FLAGS="$CXX_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$CXX_FLAGS" -DCMAKE_PREFIX_PATH="$PWD/$BUILD/gtest" "${@:2}"
cmake --build "$BUILD" -j"$jobs"
ctest --test-dir "$BUILD" --output-on-failure -j"$jobs"
