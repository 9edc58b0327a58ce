#!/usr/bin/env bash
# MAINTAINERS ONLY. Refreshes the repository's copies of the project's reference material from ../shared (the
# folder beside a maintainer's working copy that the material was first written in). Never used by the tests, by CI
# or at run time: the repository stands alone with the copies it holds.
#   ../shared/fixtures/tgi/*                    -> tests/fixtures/tgi/            (unchanged)
#   ../shared/data/massed_compute_2024_tgi_llama70b.csv, gpu_specs.csv, SOURCES.md -> data/raw/...  (unchanged)
#   ../shared/docs/{tgi-benchmark,serving-benchmarks}.md -> docs/reference/     (one path adapted, see its README)
# Usage: scripts/refresh-reference-copies.sh [SHARED_DIR]   (default: ../shared beside the repository)
# Prints what changed. If data/raw changed, rebuild data/ from scratch (scripts/bundle-data.sh NEW_DIR, then review
# and replace data/), because importing again only adds runs.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(cd "${1:-$repo/../shared}" && pwd)"

copy() {  # copy SRC DEST: report whether DEST changed
  if cmp -s "$1" "$2"; then echo "same     ${2#"$repo"/}"; else mkdir -p "$(dirname "$2")"; cp "$1" "$2"; chmod 644 "$2"; echo "UPDATED  ${2#"$repo"/}"; fi
}

for f in "$shared"/fixtures/tgi/*; do copy "$f" "$repo/tests/fixtures/tgi/$(basename "$f")"; done
table=massed_compute_2024_tgi_llama70b
copy "$shared/data/$table.csv" "$repo/data/raw/transcribed/$table/$table.csv"
copy "$shared/data/gpu_specs.csv" "$repo/data/raw/reference/gpu_specs.csv"
copy "$shared/data/SOURCES.md" "$repo/data/raw/SOURCES.md"
copy "$shared/docs/serving-benchmarks.md" "$repo/docs/reference/serving-benchmarks.md"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
sed 's#`shared/fixtures/tgi/`#`tests/fixtures/tgi/`#' "$shared/docs/tgi-benchmark.md" > "$tmp"
copy "$tmp" "$repo/docs/reference/tgi-benchmark.md"
