"""Publish the site to GitHub Pages: build it and push it to a remote's gh-pages branch (`mkdocs gh-deploy`).

The remote is a git remote name ("origin") or a URL or path; the branch is first brought up to date with the
remote's, so a deploy from a fresh clone does not need a fetch beforehand.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path

from collector.data.errors import GpubenchError
from site_src.serve import _config_path, check_data, load, site_env

BRANCH = "gh-pages"


def _git(cwd: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise GpubenchError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def remote_url(remote: str, cwd: Path) -> str:
    """The URL of a remote name, or the remote itself when it is already a URL or path."""
    proc = _git(cwd, "remote", "get-url", remote)
    return proc.stdout.strip() if proc.returncode == 0 else remote


def pages_url(remote: str, cwd: Path | str = ".") -> str | None:
    """Where GitHub Pages serves a repository's gh-pages branch, if the remote is on GitHub."""
    url = remote_url(remote, Path(cwd))
    m = re.search(r"github\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$", url)
    if not m:
        return None
    owner, repo = m.groups()
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{repo}/"


def _sync_branch(root: Path, remote: str, branch: str) -> None:
    """Start the local branch from the remote's, so that the deploy commit is a fast-forward there."""
    fetched = _git(root, "fetch", "--quiet", remote, f"refs/heads/{branch}")
    if fetched.returncode == 0:
        _git(root, "update-ref", f"refs/heads/{branch}", "FETCH_HEAD", check=True)


def publish(remote: str, *, config_file: str | Path = "mkdocs.yml", message: str | None = None,
            site_url: str | None = None, data_dir: str | Path | None = None, branch: str = BRANCH) -> None:
    """Build the site (strict) and push it to ``branch`` of ``remote``, as `mkdocs gh-deploy` does.

    site_url (needed for instant navigation) defaults to the GitHub Pages address of a GitHub remote.
    Raises GpubenchError when the project is not a git repository, the build fails or the push is refused.
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.commands.gh_deploy import gh_deploy
    from mkdocs.exceptions import MkDocsException

    config_path = _config_path(config_file)
    root = config_path.parent
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise GpubenchError("not a git repository: publish from a clone of the project", path=str(root))
    site_url = site_url or pages_url(remote, root)
    with site_env(data_dir, site_url), contextlib.chdir(root):
        check_data(config_path, data_dir)
        config = load(config_path, remote_name=remote, remote_branch=branch, strict=True)
        _sync_branch(root, remote, branch)
        try:
            mkdocs_build(config)
            gh_deploy(config, message=message, ignore_version=True)
        except MkDocsException as e:
            raise GpubenchError(f"publish to {remote} failed: {str(e).strip()}") from None
        except subprocess.CalledProcessError:
            raise GpubenchError(f"git push to {remote} ({branch}) was refused; check the remote and your "
                                "access to it") from None
