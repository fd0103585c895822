#!/bin/sh
# Seed the read_record corpus from every pickle fixture (the small ones whole, the large real ones cut
# to 16 KiB, since libFuzzer works best on inputs of a few KiB) and the committed seeds. The regular
# test crates/scenelab-pickle/tests/fuzz_corpus.rs runs the same seeds. Run from the repository root:
#   sh fuzz/seed.sh   (then see fuzz/README.md)
set -e
out=fuzz/corpus/read_record
mkdir -p "$out"
find tests/fixtures -type f -name '*.pkl' | while read -r f; do
    name=$(echo "${f#tests/fixtures/}" | tr '/' '_')
    head -c 16384 "$f" > "$out/$name"
done
if [ -d fuzz/seeds/read_record ]; then
    cp fuzz/seeds/read_record/* "$out/"
fi
