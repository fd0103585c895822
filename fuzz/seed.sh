#!/bin/sh
# Seed the read_record corpus from the test fixtures (the synthetic ones whole, the large real ones cut to 16 KiB, since
# libFuzzer works best on inputs of a few KiB). Run from the repository root:
#   sh fuzz/seed.sh && RUSTC_BOOTSTRAP=1 cargo fuzz run read_record -- -max_total_time=300
set -e
out=fuzz/corpus/read_record
mkdir -p "$out"
for f in tests/fixtures/pickle/*.pkl tests/fixtures/pickle/synth/*.pkl; do
    head -c 16384 "$f" > "$out/$(basename "$f")"
done
