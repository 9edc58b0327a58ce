"""Build and preview the site: plain functions for `gpubench build` and `gpubench serve`.

Both load mkdocs.yml (the site's hooks read data/, or ``data_dir``) and report failures as GpubenchError.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path
from typing import Iterator

from collector.data.errors import GpubenchError
from collector.settings import DATA_ENV, SITE_URL_ENV
from collector.settings import data_dir as default_data_dir


@contextlib.contextmanager
def site_env(data_dir: str | Path | None = None, site_url: str | None = None) -> Iterator[None]:
    """Point the hooks at another data folder and/or set site_url for one build, then restore the environment."""
    changes = {"NO_MKDOCS_2_WARNING": "1"}  # Material's banner about MkDocs 2 is noise for our users
    if data_dir is not None:
        changes[DATA_ENV] = str(Path(data_dir).resolve())
    if site_url is not None:
        changes[SITE_URL_ENV] = site_url
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_data(config_path: Path, data_dir: str | Path | None = None) -> None:
    """Validate data/ before MkDocs runs, so that bad data is reported as the store's one line (file:line:
    problem) rather than as MkDocs' "Aborted with a BuildError"."""
    from collector.data import store

    store.load(Path(data_dir) if data_dir is not None else default_data_dir(config_path.parent))


def _config_path(config_file: str | Path) -> Path:
    path = Path(config_file).resolve()
    if not path.is_file():
        raise GpubenchError("no such file: the site is configured by mkdocs.yml at the project's root",
                            path=str(config_file))
    return path


def load(config_file: str | Path = "mkdocs.yml", **overrides):
    """The MkDocs configuration, with overrides (site_dir, site_url, strict, remote_name, ...)."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    path = _config_path(config_file)
    try:
        return load_config(str(path), **overrides)
    except MkDocsException as e:
        raise GpubenchError(str(e).strip() or "invalid configuration", path=str(path)) from None


def build(*, config_file: str | Path = "mkdocs.yml", site_dir: str | Path | None = None,
          data_dir: str | Path | None = None, site_url: str | None = None, strict: bool = True) -> Path:
    """Build the site from data/ (or data_dir) into site_dir (default: mkdocs.yml's site_dir); returns the folder.
    Strict: any warning fails the build."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import MkDocsException

    with site_env(data_dir, site_url):
        check_data(_config_path(config_file), data_dir)
        config = load(config_file, site_dir=str(site_dir) if site_dir else None, strict=strict)
        try:
            mkdocs_build(config)
        except MkDocsException as e:
            raise GpubenchError(f"site build failed: {str(e).strip()}") from None
    return Path(config.site_dir)


def _host_port(dev_addr: str) -> tuple[str, int]:
    host, _, port = dev_addr.rpartition(":")
    try:
        return host.strip("[]") or "127.0.0.1", int(port)
    except ValueError:
        raise GpubenchError(f"--dev-addr {dev_addr!r} is not HOST:PORT (for example 127.0.0.1:8000)") from None


def _bind(host: str, port: int) -> None:
    """Bind (and release) host:port as the server will, or raise the OSError it would get."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: only a listener is in the way
        s.bind((host, port))


def check_port(dev_addr: str) -> None:
    """Raise a one-line GpubenchError when the server could not listen on dev_addr, suggesting a free port when
    this one is taken."""
    host, port = _host_port(dev_addr)
    try:
        _bind(host, port)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise GpubenchError(f"cannot serve at {host}:{port}: {e.strerror or e}") from None
        free = next((p for p in range(port + 1, port + 50) if _free(host, p)), None)
        hint = f"; try --dev-addr {host}:{free}" if free else "; try another --dev-addr"
        raise GpubenchError(f"port {port} on {host} is in use (another 'gpubench serve' or another server?)"
                            + hint) from None


def _free(host: str, port: int) -> bool:
    try:
        _bind(host, port)
    except OSError:
        return False
    return True


def serve(*, config_file: str | Path = "mkdocs.yml", data_dir: str | Path | None = None,
          dev_addr: str = "127.0.0.1:8000", open_in_browser: bool = False) -> None:
    """Serve the site with live reload until interrupted; editing data/ or site_src/ rebuilds it. A port in use
    is reported in one line, with a free one to try."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    path = _config_path(config_file)
    check_port(dev_addr)
    with site_env(data_dir):
        check_data(path, data_dir)
        try:
            mkdocs_serve(str(path), dev_addr=dev_addr, open_in_browser=open_in_browser)
        except MkDocsException as e:
            raise GpubenchError(f"site server failed: {str(e).strip()}") from None
        except OSError as e:  # the port taken between the check and the server's start
            if e.errno == errno.EADDRINUSE:
                check_port(dev_addr)
            raise GpubenchError(f"site server failed: {e.strerror or e}") from None
