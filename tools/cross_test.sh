#!/usr/bin/env bash
# The test suite with another toolchain.
#
#   bash tools/cross_test.sh clang-libcxx   # Debian's clang 14 with libc++ 14, warnings as errors
#
# Installs what is missing from Debian's packages (clang-14, libc++-14-dev, libc++abi-14-dev,
# googletest's sources), builds GoogleTest with libc++ (Debian's libgtest.a is built against
# libstdc++, whose std::string a libc++ test cannot pass to it), then configures, builds and runs
# every CTest test of the library, its tests and its command-line tools (no benchmarks: Debian's
# Google Benchmark is a libstdc++ build too). The build lives in build-clang-libcxx/ (BUILD=...).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  clang-libcxx) ;;
  *)
    echo "usage: bash tools/cross_test.sh clang-libcxx" >&2
    exit 2
    ;;
esac

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
