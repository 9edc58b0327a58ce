"""The repository stands alone: no tracked file reads or names ../shared, the folder its reference material was
first copied from (fixtures live in tests/fixtures/, source data in data/raw/, notes in docs/reference/). Only the
maintainers' refresh script may name it. CI (.ci/run) also runs the whole suite from a clone with nothing beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAINTAINER_SCRIPT = "scripts/refresh-reference-copies.sh"
# Written so that this file does not match them: ../shared, shared/ as a path, "shared" as a path component.
PATTERNS = [r"\.\./" r"shared", r"(^|[^[:alnum:]_.-])" r"shared/", r"""["']""" r"shared" r"""["']"""]


def test_no_tracked_file_names_the_shared_folder():
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, text=True)
    if inside.stdout.strip() != "true":
        pytest.skip("not a git checkout")
    args = [arg for pattern in PATTERNS for arg in ("-e", pattern)]
    found = subprocess.run(["git", "grep", "-n", "-I", "-E", *args, "--", ".", f":(exclude){MAINTAINER_SCRIPT}"],
                           cwd=ROOT, capture_output=True, text=True)
    assert found.returncode in (0, 1), found.stderr  # 1: no match
    assert found.stdout == "", "tracked files name ../shared (copy what they need into the repository):\n" + found.stdout
