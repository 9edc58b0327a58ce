"""The repository stands alone: no tracked file reads or names the reference folder beside a maintainer's working
copy that fixtures, source data and notes were first copied from (they live in tests/fixtures/, data/raw/ and
docs/reference/). Only the maintainers' refresh script names it. CI (.ci/run) runs the whole suite from a clone with
nothing beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAINTAINER_SCRIPT = "scripts/refresh-reference-copies.sh"
FOLDER = "sha" + "red"  # spelt so that this file does not match
# Its relative path, the name followed by a slash (as in a path, absolute or not), the name as a path component.
PATTERNS = [rf"\.\./{FOLDER}", rf"(^|[^[:alnum:]_.-]){FOLDER}/", rf"""["']{FOLDER}["']"""]


def test_no_tracked_file_names_the_shared_folder():
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, text=True)
    if inside.stdout.strip() != "true":
        pytest.skip("not a git checkout")
    args = [arg for pattern in PATTERNS for arg in ("-e", pattern)]
    found = subprocess.run(["git", "grep", "-n", "-I", "-E", *args, "--", ".", f":(exclude){MAINTAINER_SCRIPT}"],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.returncode in (0, 1), found.stderr  # 1: no match
    assert found.stdout == "", f"tracked files name the {FOLDER} folder (copy what they need in):\n{found.stdout}"
