"""`serve` (mkdocs serve) rebuilds the site when data/ changes, and a busy port is one line, not a traceback."""

from __future__ import annotations

import socket
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


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path):
    """`gpubench serve` on a port another program listens on: exit status 1, one line naming the port and a free
    one to use instead, no traceback."""
    data = copy_data(tmp_path / "data")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "collector.cli", "serve", "--data", str(data), "--dev-addr",
                               f"127.0.0.1:{port}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert errors[0].startswith(f"gpubench: error: port {port} on 127.0.0.1 is in use")
    assert "serving" not in proc.stdout, proc.stdout  # nothing claims to serve before the port is known to be free
    suggested = int(errors[0].rsplit("--dev-addr 127.0.0.1:", 1)[1])
    with socket.socket() as s:
        s.bind(("127.0.0.1", suggested))  # the port it suggests is free
