#!/usr/bin/env bash
# The GPU check: does every model train on CUDA as on the CPU, and how fast? One command,
# under 8 minutes on a 16-core H200 machine with no network:
#
#   scripts/gpu-check.sh [--cpu-only] [BINARY]
#
# BINARY is scenelab built with `--features cuda` (scripts/build-cuda.sh makes one; `.xz`,
# `.gz` and `.zst` copies are unpacked first); default .gpu/scenelab-cuda.xz, else
# target/release/scenelab. With --cpu-only (or GPU_CHECK_CPU_ONLY=1) both sides run on the
# CPU, so the script's logic can be tried on any build and machine.
#
# 1. `scenelab bench devices`: each model (default, wavenet, bilstm, lgss) trained for one
#    epoch from the same seed on CUDA and on the CPU, on small demo movies; scores must
#    agree within 1e-4 (absolute), each parameter's gradient and each single op within 1e-4
#    of its scale; anything that differs more is listed.
# 2. `scenelab bench train` of the default model and LGSS for one epoch on full-size demo
#    movies (64, as `scenelab demo` writes them), on CUDA and then on the CPU: seconds per
#    epoch side by side.
# 3. Peak GPU memory of each phase (nvidia-smi, sampled every 200 ms in the background).
#
# Sizes (environment): EQ_MODELS (default,wavenet,bilstm,lgss), EQ_MOVIES (8), EQ_MIN_SHOTS (100), EQ_MAX_SHOTS (400), SPEED_MOVIES
# (64), SPEED_MIN_SHOTS (600), SPEED_MAX_SHOTS (3100), SPEED_MODELS (default,lgss),
# SPEED_EPOCHS (1). GPU_CHECK_DIR: work folder (default: a new temporary one, removed at the
# end). GPU_CHECK_OUT: folder to copy the logs and JSON reports to (for example $OUT).
# Exits non-zero when the devices disagree or a step fails.
set -euo pipefail
# Paths given relative to where the script was called from stay so after the cd below.
here="$PWD"
absolute() { case "$1" in /* | "") echo "$1" ;; *) echo "$here/$1" ;; esac; }
if [ -n "${GPU_CHECK_OUT:-}" ]; then GPU_CHECK_OUT="$(absolute "$GPU_CHECK_OUT")"; fi
if [ -n "${GPU_CHECK_DIR:-}" ]; then GPU_CHECK_DIR="$(absolute "$GPU_CHECK_DIR")"; fi
cd "$(dirname "$0")/.."

cpu_only="${GPU_CHECK_CPU_ONLY:-0}"
bin_arg=""
for arg in "$@"; do
  case "$arg" in
    --cpu-only) cpu_only=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) bin_arg="$arg" ;;
  esac
done
if [ -n "$bin_arg" ] && [ -e "$here/$bin_arg" ]; then bin_arg="$(absolute "$bin_arg")"; fi
if [ -z "$bin_arg" ]; then
  if [ -e .gpu/scenelab-cuda.xz ]; then bin_arg=.gpu/scenelab-cuda.xz; else bin_arg=target/release/scenelab; fi
fi
test -e "$bin_arg" || { echo "gpu-check: no binary at $bin_arg (build one with scripts/build-cuda.sh)" >&2; exit 2; }

eq_models="${EQ_MODELS:-default,wavenet,bilstm,lgss}" eq_movies="${EQ_MOVIES:-8}" eq_min="${EQ_MIN_SHOTS:-100}" eq_max="${EQ_MAX_SHOTS:-400}"
speed_movies="${SPEED_MOVIES:-64}" speed_min="${SPEED_MIN_SHOTS:-600}" speed_max="${SPEED_MAX_SHOTS:-3100}"
speed_models="${SPEED_MODELS:-default,lgss}" speed_epochs="${SPEED_EPOCHS:-1}"

# Reports reach GPU_CHECK_OUT after every phase and when the script is stopped (a time limit),
# so a run cut short still brings back what it measured.
save() {
  if [ -n "${GPU_CHECK_OUT:-}" ]; then
    mkdir -p "$GPU_CHECK_OUT"
    cp "$work"/*.json "$work"/*.log "$work"/*.txt "$GPU_CHECK_OUT"/ 2>/dev/null || true
  fi
}
if [ -n "${GPU_CHECK_DIR:-}" ]; then
  work="$GPU_CHECK_DIR"
  mkdir -p "$work"
  trap 'save' EXIT
else
  work="$(mktemp -d)"
  trap 'save; rm -rf "$work"' EXIT
fi
trap 'exit 143' TERM INT
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started)) s"; }
say() { echo "== $* ($(elapsed))"; }

# The binary, unpacked.
bin="$work/scenelab"
case "$bin_arg" in
  *.xz) xz -dc "$bin_arg" >"$bin" ;;
  *.gz) gzip -dc "$bin_arg" >"$bin" ;;
  *.zst) zstd -qdc "$bin_arg" >"$bin" ;;
  *) cp "$bin_arg" "$bin" ;;
esac
chmod +x "$bin"

# CUDA's libraries: a CUDA toolkit's, the driver's, or PyTorch's nvidia-* wheels'.
missing() { ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}'; }
if [ -n "$(missing)" ]; then
  for lib in $(missing); do
    found="$(find /usr/local /opt /usr/lib /usr/lib64 /lib -maxdepth 9 -name "$lib" \
      \( -type f -o -type l \) 2>/dev/null | head -n 1 || true)"
    if [ -n "$found" ]; then
      export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  done
  if [ -n "$(missing)" ]; then
    echo "gpu-check: libraries not found: $(missing | tr '\n' ' ')" >&2
    exit 2
  fi
fi
"$bin" --version

a=cuda
if [ "$cpu_only" = 1 ]; then
  a=cpu
  echo "CPU only: both sides run on the CPU"
elif command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

# Peak GPU memory of a phase: a sampler in the background, its maximum afterwards.
sampler=""
mem_start() {
  if [ "$a" = cuda ] && command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 >"$work/mem-$1.log" &
    sampler=$!
  fi
}
mem_stop() {
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=""
    peak="$(sort -n "$work/mem-$1.log" | tail -n 1)"
    echo "peak GPU memory during $1: ${peak:-?} MiB"
    echo "$1 ${peak:-?}" >>"$work/peaks.txt"
  fi
}

status=0
say "1/4 scores, gradients and ops: $a against cpu ($eq_movies demo movies of $eq_min-$eq_max shots)"
mem_start devices
"$bin" bench devices --a "$a" --b cpu --models "$eq_models" \
  --movies "$eq_movies" --min-shots "$eq_min" --max-shots "$eq_max" \
  --epochs 1 --tolerance 1e-4 --json "$work/devices.json" 2>&1 | tee "$work/devices.log" \
  || status=1
mem_stop devices
save

say "2/4 demo data: $speed_movies movies of $speed_min-$speed_max shots"
# The script's own demo folder, written afresh: `demo` refuses a folder that holds movies (a
# rerun in the same GPU_CHECK_DIR).
rm -rf "$work/demo"
"$bin" demo --out "$work/demo" --movies "$speed_movies" --min-shots "$speed_min" \
  --max-shots "$speed_max" >/dev/null

# The report names of both sides (with --cpu-only the second is the CPU again: it trains all
# the same, so every step runs).
second=cpu
[ "$a" = cpu ] && second=cpu2
step=3
for side in "$a" "$second"; do
  dev="${side%2}"
  say "$step/4 training $speed_models for $speed_epochs epoch(s) on $dev"
  step=$((step + 1))
  mem_start "train-$side"
  "$bin" bench train --dir "$work/demo" --models "$speed_models" --epochs "$speed_epochs" \
    --device "$dev" --json "$work/train-$side.json" 2>&1 | tee "$work/train-$side.log" \
    || status=1
  mem_stop "train-$side"
  save
done

# Seconds per epoch from both reports, side by side.
per_epoch() {
  awk -F': ' '/"model":/ {gsub(/[",]/, "", $2); m = $2}
    /"seconds_per_epoch":/ {gsub(/,/, "", $2); print m, $2}' "$1" 2>/dev/null || true
}
echo
echo "seconds per epoch ($speed_movies demo movies, validation included):"
printf '%-8s %12s %12s %8s\n' model "$a" cpu speedup
join <(per_epoch "$work/train-$a.json" | sort) <(per_epoch "$work/train-$second.json" | sort) |
  awk '{printf "%-8s %12.2f %12.2f %7.1fx\n", $1, $2, $3, ($2 > 0 ? $3 / $2 : 0)}'
if [ -s "$work/peaks.txt" ]; then
  echo "peak GPU memory (MiB, whole GPU):"
  sed 's/^/  /' "$work/peaks.txt"
fi
if [ "$status" = 0 ]; then
  say "gpu-check passed"
else
  say "gpu-check FAILED: see the mismatches and errors above"
fi
exit "$status"
