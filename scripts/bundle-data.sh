#!/usr/bin/env bash
# Rebuild the bundled data/ (what ships with the repository) from the source files it keeps in data/raw/ (unchanged
# copies of the published tables, described in data/raw/SOURCES.md) and the meta file in scripts/bundled/.
# Usage: scripts/bundle-data.sh [DATA_DIR]   (default: data; importing again changes nothing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sources="$here/../data/raw"
table=massed_compute_2024_tgi_llama70b
data="${1:-data}"
gpubench import-table "$sources/transcribed/$table/$table.csv" \
  --meta "$here/bundled/$table.meta.yaml" --data "$data"
gpubench import-specs "$sources/reference/gpu_specs.csv" --data "$data"
# The Massed Compute 2026 serving benchmarks (vLLM, SGLang): a results tree, priced by its catalog. They ran on
# Massed Compute's own cloud (the catalog is theirs, but names no provider: said here).
gpubench import "$sources/imported/mc2026" --data "$data" --provider "Massed Compute" \
  --source-url https://github.com/Massed-Compute/gpu-benchmark/tree/2889e80/results/raw
# Rebuilding data/ in place reads and keeps its own copy.
[ "$sources/SOURCES.md" -ef "$data/raw/SOURCES.md" ] || cp "$sources/SOURCES.md" "$data/raw/SOURCES.md"
