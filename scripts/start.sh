#!/usr/bin/env bash
# Set up gpubench and run the main job on the bundled data: check data/ and print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gpubench check
.venv/bin/gpubench summary
