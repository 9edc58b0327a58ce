#!/usr/bin/env bash
# Set up gpubench and run the main job on the bundled data: validate data/, build the report site, and preview it
# at http://127.0.0.1:8000/ (Ctrl-C stops; editing data/ rebuilds). Set GPUBENCH_ADDR to serve elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gpubench check
.venv/bin/gpubench summary
.venv/bin/gpubench build
exec .venv/bin/gpubench serve --dev-addr "${GPUBENCH_ADDR:-127.0.0.1:8000}"
