#!/usr/bin/env bash
# Build the release binary with CUDA on any Linux x86-64 machine, GPU or not, with the CUDA
# toolkit from PyPI, then strip and compress it for a GPU machine that cannot fetch crates.
#
#   scripts/build-cuda.sh [OUT]        # OUT defaults to .gpu/scenelab-cuda.xz
#
# Environment:
#   CUDA_COMPUTE_CAP   GPU generation the kernels are compiled for (default 90: H100, H200;
#                      80: A100, 89: L4 / RTX 40xx). Nothing asks a GPU for it here.
#   CUDA_TOOLKIT_DIR   where the toolkit's virtual environment goes (default
#                      ~/.cache/scenelab-cuda-13.0; kept, so a second build skips the downloads)
#   CARGO_TARGET_DIR   as usual (default target/)
#
# The toolkit is CUDA 13.0: cudarc (candle's CUDA bindings) accepts 11.4 to 12.9 and 13.0 to
# 13.4, and the toolkit must not be newer than the GPU machine's driver (13.0 there). Linking
# needs cuBLAS, cuRAND, NVRTC and the CUDA runtime as PyPI ships them (about 1.2 GB unpacked),
# plus the driver's libcuda, which only a GPU machine has: a stub with the driver's function
# names stands in, and the real libcuda.so.1 is loaded when the binary runs. The binary then
# needs on the GPU machine: libcuda.so.1 (the driver), libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10 and libnvrtc.so.13 (a CUDA 13 toolkit, or PyTorch's
# nvidia-* wheels); scripts/gpu-check.sh finds them.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-.gpu/scenelab-cuda.xz}"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
venv="${CUDA_TOOLKIT_DIR:-$HOME/.cache/scenelab-cuda-13.0}"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  'nvidia-cuda-nvcc==13.0.*' 'nvidia-cuda-runtime==13.0.*' 'nvidia-cuda-cccl==13.0.*' \
  'nvidia-cuda-crt==13.0.*' 'nvidia-nvvm==13.0.*' 'nvidia-cuda-nvrtc==13.0.*' \
  'nvidia-cublas==13.0.*' 'nvidia-curand==10.4.0.*'
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cuda="$site/nvidia/cu13"
test -x "$cuda/bin/nvcc" || { echo "build-cuda: no nvcc under $cuda" >&2; exit 1; }

# The linker asks for libNAME.so; the wheels ship only the versioned files.
for name in cudart cublas cublasLt curand nvrtc; do
  versioned="$(find "$cuda/lib" -maxdepth 1 -name "lib$name.so.*" | sort | head -n 1)"
  test -n "$versioned" || { echo "build-cuda: lib$name.so.* missing under $cuda/lib" >&2; exit 1; }
  ln -sf "$(basename "$versioned")" "$cuda/lib/lib$name.so"
done

# The driver's stub: every function cudarc's driver bindings name, under the driver's soname,
# each answering CUDA_ERROR_NO_DEVICE (100) should the stub ever be loaded instead of a driver.
cargo fetch --locked >/dev/null
cudarc_version="$(sed -n '/^name = "cudarc"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)"
cudarc_src="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 2 -type d \
  -name "cudarc-$cudarc_version" | head -n 1)"
test -n "$cudarc_src" || { echo "build-cuda: cudarc $cudarc_version sources not found" >&2; exit 1; }
mkdir -p "$cuda/lib/stubs"
grep -ohE '^pub unsafe fn cu[A-Za-z0-9_]+' "$cudarc_src/src/driver/sys/mod.rs" | sed 's/^pub unsafe fn //' \
  | sort -u | sed 's/.*/int &(void) { return 100; }/' >"$cuda/lib/stubs/libcuda.c"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$cuda/lib/stubs/libcuda.so" "$cuda/lib/stubs/libcuda.c"

PATH="$cuda/bin:$PATH" CUDA_ROOT="$cuda" \
  cargo build --release --locked --features cuda --bin scenelab
bin="${CARGO_TARGET_DIR:-target}/release/scenelab"
mkdir -p "$(dirname "$out")"
strip -o "$out.bin" "$bin"
xz -T0 -9 -c "$out.bin" >"$out"
rm -f "$out.bin"
echo "built $out: $(du -m "$out" | cut -f1) MiB compressed (CUDA 13.0, compute capability $CUDA_COMPUTE_CAP)"
