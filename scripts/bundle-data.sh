#!/usr/bin/env bash
# Rebuild the bundled data/ from the reference files in ../shared/data (what ships with the repository).
# Usage: scripts/bundle-data.sh [DATA_DIR]   (default: data; importing again changes nothing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shared="${GPUBENCH_SHARED:-$here/../../shared}/data"
data="${1:-data}"
gpubench import-table "$shared/massed_compute_2024_tgi_llama70b.csv" \
  --meta "$here/bundled/massed_compute_2024_tgi_llama70b.meta.yaml" --data "$data"
gpubench import-specs "$shared/gpu_specs.csv" --data "$data"
cp "$shared/SOURCES.md" "$data/raw/SOURCES.md"
