# Cross compiling for 64-bit Arm Linux with Debian's cross compiler (g++-aarch64-linux-gnu), the
# programs run by CTest under qemu-user (qemu-aarch64).
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#     [-DBC1S_ARCH=armv8.2-a+fp16+bf16+i8mm] [-DBC1S_QEMU_CPU=cortex-a53]
#
# Libraries come from Debian's arm64 packages installed next to the build machine's (multiarch:
# dpkg --add-architecture arm64; apt-get install libgtest-dev:arm64 libgmock-dev:arm64
# libutf8proc-dev:arm64), under /usr/lib/aarch64-linux-gnu, and from the cross compiler's own
# /usr/aarch64-linux-gnu; headers and header-only packages from the build machine's /usr.
# BC1S_QEMU_CPU: qemu's -cpu for the tests (default max: every extension qemu emulates).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# The cross compiler's root first, then the build machine's: a library is found only under an
# aarch64 folder (CMake looks in lib/aarch64-linux-gnu and lib, never in lib/x86_64-linux-gnu);
# headers and CMake package files under /usr as well; programs (bash, git) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Debian puts the CMake files of the header-only xsimd and xtensor under the build machine's
# multiarch folder (/usr/lib/x86_64-linux-gnu/cmake), and libxtensor-dev:arm64 cannot be installed
# next to the amd64 one (it depends on xtl-dev:arm64, but xtl-dev is Architecture: all without
# Multi-Arch: foreign). Their headers are the same on every architecture: use those files.
foreach(_bc1s_pkg IN ITEMS xsimd xtensor)
  if(NOT ${_bc1s_pkg}_DIR AND NOT EXISTS "/usr/lib/aarch64-linux-gnu/cmake/${_bc1s_pkg}")
    file(GLOB _bc1s_dirs LIST_DIRECTORIES true "/usr/lib/*-linux-gnu*/cmake/${_bc1s_pkg}")
    if(_bc1s_dirs)
      list(GET _bc1s_dirs 0 _bc1s_dir)
      set(${_bc1s_pkg}_DIR "${_bc1s_dir}" CACHE PATH "${_bc1s_pkg}'s CMake package folder")
    endif()
  endif()
endforeach()
unset(_bc1s_pkg)
unset(_bc1s_dirs)
unset(_bc1s_dir)

# CTest runs the test programs (add_test with a target as its command) under qemu-aarch64, with
# the cross compiler's root for the dynamic loader, and its libc and libstdc++ searched first: the
# loader finds /lib/aarch64-linux-gnu/libc.so.6 of libc6:arm64 (pulled in by the multiarch
# packages) before its own otherwise, and with a loader and a libc from two glibc builds
# (bookworm: 2.36-8cross1 and 2.36-9+deb12u14) kernels_attention_test spins forever inside libc.
set(BC1S_QEMU_CPU "max" CACHE STRING "qemu-aarch64 -cpu for the tests (e.g. max, cortex-a53, neoverse-n1)")
find_program(BC1S_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${BC1S_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib;-cpu;${BC1S_QEMU_CPU}")
