# CMake toolchain: hat-agent for 64-bit Arm (Raspberry Pi OS bookworm) built on an x86-64 Debian
# host with crossbuild-essential-arm64, against an arm64 sysroot of Debian's packages
# (deploy/pi/cross-build.sh makes it: `apt-get download` of the packages, then `dpkg -x`).
#
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=deploy/pi/aarch64-toolchain.cmake \
#     -DHAT_SYSROOT=/path/to/sysroot -DHAT_AGENT_ONLY=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(HAT_SYSROOT "" CACHE PATH "arm64 sysroot (deploy/pi/cross-build.sh)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HAT_SYSROOT)  # try_compile runs this file too
if(NOT HAT_SYSROOT OR NOT EXISTS "${HAT_SYSROOT}/usr/include")
  message(FATAL_ERROR "HAT_SYSROOT='${HAT_SYSROOT}' is not an arm64 sysroot: make one with "
                      "deploy/pi/cross-build.sh")
endif()
set(CMAKE_SYSROOT "${HAT_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${HAT_SYSROOT}")
# Headers, libraries and CMake packages from the sysroot; programs (protoc, the gRPC plugin) from
# the host, which runs them.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config (gRPC's RE2 lookup) reads the sysroot's .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR}
    "${HAT_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${HAT_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${HAT_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(HAT_GRPC_CPP_PLUGIN /usr/bin/grpc_cpp_plugin CACHE FILEPATH "gRPC's C++ plugin (host)")
set(Protobuf_PROTOC_EXECUTABLE /usr/bin/protoc CACHE FILEPATH "protoc (host)")
# The sysroot's shared libraries name their own dependencies; let the linker find them there.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${HAT_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${HAT_SYSROOT}/lib/aarch64-linux-gnu")
