"""`serve` (mkdocs serve) rebuilds the site when data/ changes."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from sitetest import REPO, copy_data, edit_csv, free_port


def _get(url: str) -> str:
    return urllib.request.urlopen(url, timeout=5).read().decode("utf-8")


def _wait_for(url: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if text in last:
                return last
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared at {url}")


def test_serve_rebuilds_when_data_changes(tmp_path):
    data = copy_data(tmp_path / "data")
    port = free_port()
    code = (f"from site_src.serve import serve; serve(config_file={str(REPO / 'mkdocs.yml')!r}, "
            f"data_dir={str(data)!r}, dev_addr='127.0.0.1:{port}')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for(url, "Newest data: <strong>2026-07-16</strong>")  # the newest serving runs
        assert f"<loc>{url}</loc>" in _get(url + "sitemap.xml")  # instant navigation works under serve
        edit_csv(data / "runs.csv", lambda rows: rows[0].update(published_at="2027-01-02"))
        _wait_for(url, "Newest data: <strong>2027-01-02</strong>")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
