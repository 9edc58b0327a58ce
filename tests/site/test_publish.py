"""`publish` pushes the built site to a remote's gh-pages branch (here a local bare repository), and `build`
reports bad data as one readable line."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sitetest import REPO, copy_data, edit_csv

from collector.data.errors import GpubenchError
from site_src import publish, serve

GIT_ENV = {"GIT_AUTHOR_NAME": "gpubench test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "gpubench test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A clone-like project: mkdocs.yml, site_src/ and data/ in a git repository of its own."""
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GPUBENCH_DATA", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_src", root / "site_src", ignore=shutil.ignore_patterns("__pycache__"))
    copy_data(root / "data")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "project")
    return root


def test_publish_to_a_bare_repository(project, tmp_path):
    remote = tmp_path / "pages.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    publish.publish(str(remote), config_file=project / "mkdocs.yml", message="Deploy the report site")
    files = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").split()
    for name in ("index.html", "assets/vendor/vega-bundle.js", "assets/javascripts/charts.js", ".nojekyll",
                 "reports/llama-3-1-70b-instruct/index.html", "data/runs.csv", "sitemap.xml"):
        assert name in files, name
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == "Deploy the report site"
    index = git(remote, "show", "gh-pages:index.html")
    assert "Llama 3.1 70B Instruct" in index and "gb-card" in index

    # A second deploy from another clone (no local gh-pages yet) is a fast-forward on the remote.
    other = tmp_path / "other"
    shutil.copytree(project, other)
    git(other, "branch", "-D", "gh-pages")
    publish.publish(str(remote), config_file=other / "mkdocs.yml")
    assert len(git(remote, "log", "--format=%H", "gh-pages").split()) == 2


def test_publish_names_the_github_pages_address(project):
    git(project, "remote", "add", "origin", "git@github.com:Example-Org/gpubench.git")
    assert publish.pages_url("origin", project) == "https://example-org.github.io/gpubench/"
    assert publish.pages_url("https://github.com/me/me.github.io", project) == "https://me.github.io/"
    assert publish.pages_url(str(project), project) is None


def test_publish_outside_a_git_repository(tmp_path):
    shutil.copy2(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with pytest.raises(GpubenchError, match="not a git repository"):
        publish.publish("origin", config_file=tmp_path / "mkdocs.yml")


def test_build_function_and_bad_data(tmp_path):
    data = copy_data(tmp_path / "data")
    out = serve.build(config_file=REPO / "mkdocs.yml", site_dir=tmp_path / "site", data_dir=data)
    assert (out / "index.html").is_file()
    edit_csv(data / "runs.csv", lambda rows: rows[0].update(gpu_count="eight"))
    with pytest.raises(GpubenchError) as e:
        serve.build(config_file=REPO / "mkdocs.yml", site_dir=tmp_path / "site2", data_dir=data)
    msg = str(e.value)
    assert "\n" not in msg and "runs.csv:2" in msg and "gpu_count" in msg and "whole number" in msg


def test_build_with_no_runs(tmp_path):
    data = copy_data(tmp_path / "data")
    for name in ("runs.csv", "results.csv", "prices.csv"):
        lines = (data / name).read_text().splitlines()
        (data / name).write_text(lines[0] + "\n")
    out = serve.build(config_file=REPO / "mkdocs.yml", site_dir=tmp_path / "site", data_dir=data)
    assert "data/ holds no runs yet" in (out / "index.html").read_text()
    assert (out / "efficiency" / "index.html").is_file()


def test_pages_workflow_builds_strict_and_deploys():
    import yaml

    wf = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text())
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    steps = wf["jobs"]["build"]["steps"]
    build_step = next(s for s in steps if "mkdocs build" in s.get("run", ""))
    assert "--strict" in build_step["run"] and "GPUBENCH_SITE_URL" in build_step["env"]
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") and s["with"]["path"] == "site"
               for s in steps)
    assert wf["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages")
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
