"""The GitHub Pages workflow: tests and builds pull requests without deploying them, and never cancels a deploy."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "pages.yml"


def test_pull_requests_are_tested_and_built_never_deployed():
    doc = yaml.safe_load(WORKFLOW.read_text())
    triggers = doc[True]  # YAML reads the key `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert "scripts/test.sh" in jobs["test"]["steps"][-1]["run"]
    assert jobs["deploy"]["if"] == "github.event_name != 'pull_request'"
    assert set(jobs["deploy"]["needs"]) == {"test", "build"}


def test_a_deploy_in_progress_is_never_cancelled():
    concurrency = yaml.safe_load(WORKFLOW.read_text())["concurrency"]
    # only pull requests cancel their previous run; pushes to main share one group and queue
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert "'deploy'" in concurrency["group"] and "github.ref" in concurrency["group"]
