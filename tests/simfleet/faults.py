"""Fault cases against the simulated fleet (real sshd and dockerd per host, stand-in TGI image).

Each case runs gpubench as users do (a real process), injects one fault, and returns what it observed. The same
cases are asserted by tests/faults/test_faults.py and tabulated by bench/faults.py.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .collect import ROOT, TOKEN, benchmark_running, collect, collect_command, files_containing, inventory

TGI_OUTPUT = ROOT / "tests/fixtures/tgi/llama2-7b_1shard_tgi-pr868.txt"  # a real text-generation-benchmark output


@dataclass
class Outcome:
    observed: str
    as_expected: bool
    containers_left: int
    rows_lost: int  # runs of hosts that finished but are not in data/ exactly once (lost or duplicated)


@dataclass
class Case:
    name: str
    expected: str
    run: Callable  # (fleet, tmp_path) -> Outcome
    hosts: int = 2


CASES: list[Case] = []


def case(name: str, expected: str, hosts: int = 2):
    def register(fn):
        CASES.append(Case(name, expected, fn, hosts))
        return fn
    return register


# ---------------------------------------------------------------- helpers


def gpubench(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "collector.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def start_collect(fleet, inv: Path, data: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "HF_TOKEN": TOKEN, "COLUMNS": "200"}
    return subprocess.Popen(collect_command(fleet, inv, data, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def runs_in(data: Path) -> list[dict]:
    if not (data / "runs.csv").exists():
        return []
    with open(data / "runs.csv", newline="") as f:
        return list(csv.DictReader(f))


def rows_lost(data: Path, finished_hosts) -> int:
    hosts = [r["host"] for r in runs_in(data)]
    return sum(abs(hosts.count(h) - 1) for h in finished_hosts) + sum(h not in finished_hosts for h in hosts)


def containers_left(fleet) -> int:
    return sum(len(v) for v in fleet.gpubench_containers().values())


def container_running(host) -> bool:
    return bool(host.docker("ps", "--filter", "label=gpubench", "--format", "{{.Names}}").stdout.split())


def wait_until(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def data_loads(data: Path) -> bool:
    return not (data / "runs.csv").exists() or gpubench("check", "--data", data).returncode == 0


def slow(host, run_seconds: float = 0.5, startup: float = 1) -> None:
    host.set_standin(STARTUP_SECONDS=startup, RUN_SECONDS=run_seconds)


# ---------------------------------------------------------------- 1. connection loss


@case("connection drops mid-benchmark, comes back", "host failed (connection lost), other host done, "
      "container removed after reconnecting")
def connection_drops_and_returns(fleet, tmp: Path) -> Outcome:
    a, b = fleet(2)
    slow(a, 0.5)
    slow(b, 0.1)
    data = tmp / "data"
    proc = start_collect(fleet, inventory(tmp, [a, b]), data)
    wait_until(lambda: benchmark_running(a), what="benchmark on a")
    a.stop_sshd(kill_sessions=True)
    time.sleep(3)
    a.start_sshd()
    out, err = proc.communicate(timeout=300)
    ok = (proc.returncode == 1 and f"host {a.alias}: SSH connection" in err and "lost" in err
          and [r["host"] for r in runs_in(data)] == [b.alias] and "may still be running" not in err)
    return Outcome(_last_error(err, a.alias), ok, containers_left(fleet), rows_lost(data, [b.alias]))


@case("connection drops and stays down", "host failed, leftover container named with 'gpubench cleanup'; "
      "cleanup removes it once the host is back")
def connection_stays_down(fleet, tmp: Path) -> Outcome:
    a, b = fleet(2)
    slow(a, 0.5)
    slow(b, 0.1)
    data = tmp / "data"
    inv = inventory(tmp, [a, b])
    proc = start_collect(fleet, inv, data)
    wait_until(lambda: benchmark_running(a), what="benchmark on a")
    a.stop_sshd(kill_sessions=True)
    out, err = proc.communicate(timeout=300)
    left_before = containers_left(fleet)
    a.start_sshd()
    cleanup = gpubench("cleanup", inv, "--ssh-config", fleet.ssh_config, "--known-hosts", fleet.known_hosts)
    named = f"container gpubench-{a.alias}-" in err and f"on host {a.alias}" in err and "gpubench cleanup" in err
    ok = proc.returncode == 1 and named and left_before == 1 and cleanup.returncode == 0
    observed = f"leftover named: {named}; {left_before} left; cleanup: {cleanup.stdout.strip().splitlines()[0]}"
    return Outcome(observed, ok, containers_left(fleet), rows_lost(data, [b.alias]))


# ---------------------------------------------------------------- 2. the collector dies


def _kill_then_resume(fleet, tmp: Path, wait_for: Callable, phase: str) -> Outcome:
    a, b = fleet(2)
    slow(a, 0.05)
    slow(b, 0.4, startup=2)
    data = tmp / "data"
    inv = inventory(tmp, [a, b])
    proc = start_collect(fleet, inv, data)
    wait_for(a, b, data)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    loads = data_loads(data)
    resumed = collect(fleet, inv, data, "--resume")
    removed = "left by an earlier run" in resumed.stdout
    ok = (loads and resumed.returncode == 0 and sorted(r["host"] for r in runs_in(data)) == sorted([a.alias, b.alias])
          and (removed or phase == "after one host saved"))
    observed = (f"data loads after kill: {loads}; resume exit {resumed.returncode}; stale containers removed: "
                f"{removed}; runs: {len(runs_in(data))}" + (f"; {_last_error(resumed.stderr)}" if resumed.returncode
                                                           else ""))
    return Outcome(observed, ok, containers_left(fleet), rows_lost(data, [a.alias, b.alias]))


@case("collector SIGKILLed while servers start", "data/ loads; --resume removes the dead run's containers, "
      "completes both hosts")
def killed_while_loading(fleet, tmp: Path) -> Outcome:
    return _kill_then_resume(fleet, tmp, lambda a, b, d: wait_until(lambda: container_running(b), what="b's server"),
                             "loading")


@case("collector SIGKILLed mid-benchmark", "data/ loads; --resume removes the dead run's containers, completes "
      "both hosts")
def killed_mid_benchmark(fleet, tmp: Path) -> Outcome:
    return _kill_then_resume(fleet, tmp, lambda a, b, d: wait_until(lambda: benchmark_running(b), what="b's bench"),
                             "benchmark")


@case("collector SIGKILLed after one host saved", "data/ loads; --resume skips the saved host, completes the other")
def killed_after_one_saved(fleet, tmp: Path) -> Outcome:
    return _kill_then_resume(fleet, tmp, lambda a, b, d: wait_until(lambda: len(runs_in(d)) == 1, what="a saved"),
                             "after one host saved")


# ---------------------------------------------------------------- 3. two collectors


@case("two collectors on the same data/", "second refused with the first's pid; first completes; no row lost or "
      "duplicated")
def two_collectors(fleet, tmp: Path) -> Outcome:
    a, b = fleet(2)
    slow(a, 0.2)
    slow(b, 0.2)
    data = tmp / "data"
    inv = inventory(tmp, [a, b])
    first = start_collect(fleet, inv, data)
    wait_until(lambda: container_running(a), what="first collector")
    second = collect(fleet, inv, data)
    out, err = first.communicate(timeout=300)
    refused = second.returncode == 1 and f"another 'gpubench collect' (pid {first.pid})" in second.stderr
    ok = refused and first.returncode == 0
    return Outcome(f"second: {_last_error(second.stderr)}; first exit {first.returncode}"
                   + (f" ({_last_error(err)})" if first.returncode else ""), ok,
                   containers_left(fleet), rows_lost(data, [a.alias, b.alias]))


# ---------------------------------------------------------------- 4. hostile or broken files


@case("shell metacharacters in every inventory string", "values reach the host as data: no command runs, "
      "the run completes", hosts=1)
def metacharacters(fleet, tmp: Path) -> Outcome:
    (a,) = fleet(1)
    marker = Path(f"/tmp/gpubench-pwned-{uuid.uuid4().hex[:8]}")
    evil = [f"; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", f"' ; touch {marker} ; '",
            f"\" ; touch {marker} ; \"", f"x\ntouch {marker}", f"&& touch {marker} ||"]
    overrides = {a.alias: {
        "gpu": evil[0], "model": "org/model" + evil[1], "revision": evil[2], "dtype": evil[3],
        "quantize": evil[4], "launcher_args": ["--max-total-tokens", evil[5], "--x", evil[6]],
        "weights_cache": str(a.cache_dir) + "/ca che" + evil[1].replace("/", "_"),
        "price": {"usd_per_hr": 1.0, "date": "2025-01-01", "source": evil[2]},
    }}
    (Path(overrides[a.alias]["weights_cache"])).mkdir(parents=True, exist_ok=True)
    (Path(overrides[a.alias]["weights_cache"]) / "standin.conf").write_text("STARTUP_SECONDS=1\n")
    data = tmp / "data"
    out = collect(fleet, inventory(tmp, [a], **overrides), data)
    runs = runs_in(data)
    stored = runs[0]["gpu"] if runs else None
    ok = not marker.exists() and out.returncode == 0 and stored == evil[0]
    observed = (f"marker created: {marker.exists()}; exit {out.returncode}; gpu label stored verbatim: "
                f"{stored == evil[0]}")
    marker.unlink(missing_ok=True)
    return Outcome(observed, ok, containers_left(fleet), rows_lost(data, [a.alias]))


def _refused(result: subprocess.CompletedProcess, *needles: str) -> bool:
    lines = [l for l in result.stderr.splitlines() if l.startswith("gpubench: error:")]
    return (result.returncode == 1 and len(lines) == 1 and all(n in lines[0] for n in needles)
            and "Traceback" not in result.stderr)


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


@case("broken inventory files", "one line naming file, place and problem (with a suggestion for typos); "
      "nothing written", hosts=1)
def broken_inventories(fleet, tmp: Path) -> Outcome:
    (a,) = fleet(1)
    data = tmp / "data"
    checks = []
    for name, text, needles in [
        ("invalid.yaml", "hosts: [ {name: a\n", ("invalid.yaml:", "invalid YAML")),
        ("typo.yaml", f"hosts:\n  - {{name: a, ssh: {a.alias}, gpu: H, gpus: 8, modle: m}}\n",
         ("typo.yaml", "host 'a'", "unknown field 'modle'", "did you mean 'model'")),
        ("type.yaml", f"hosts:\n  - {{name: a, ssh: {a.alias}, gpu: H, gpus: eight, model: m}}\n",
         ("type.yaml", "field gpus", "'eight' is not a whole number")),
    ]:
        path = tmp / name
        path.write_text(text)
        checks.append(_refused(collect(fleet, path, data), *needles))
    ok = all(checks) and not data.exists()
    return Outcome(f"{sum(checks)}/{len(checks)} refused clearly; data/ created: {data.exists()}", ok,
                   containers_left(fleet), 0)


@case("broken data/ files", "one line naming file and line; exit 1; nothing written", hosts=0)
def broken_data(fleet, tmp: Path) -> Outcome:
    import shutil

    checks = []
    for name, damage, needles in [
        ("bad row", lambda d: _replace(d / "results.csv", ",decode_token_latency_ms,avg,56.18", ",decode_token_latency_ms,avg,fast"),
         ("results.csv:3:", "column value")),
        ("schema version", lambda d: (d / "SCHEMA_VERSION").write_text("7\n"), ("SCHEMA_VERSION:1:", "version 7")),
        ("missing file", lambda d: (d / "runs.csv").unlink(), ("runs.csv", "missing")),
    ]:
        data = tmp / name.replace(" ", "_")
        shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns(".*"))
        damage(data)
        before = _snapshot(data)
        imported = gpubench("import", TGI_OUTPUT, "--gpu", "A10G", "--gpu-count", "1", "--data", data)
        built = gpubench("build", "--data", data, "--site-dir", tmp / f"site-{data.name}")
        checks.append(_refused(imported, *needles) and _refused(built, *needles) and _snapshot(data) == before)
    return Outcome(f"{sum(checks)}/{len(checks)} refused by import and build, data unchanged", all(checks), 0, 0)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@case("huge, binary and endless raw outputs", "one line each with the limit or the problem; nothing written",
      hosts=0)
def hostile_raw_outputs(fleet, tmp: Path) -> Outcome:
    import shutil

    data = tmp / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns(".*"))
    huge = tmp / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(65 * 2**20)
    binary = tmp / "binary.bin"
    binary.write_bytes(os.urandom(4096))
    before = _snapshot(data)
    checks = []
    for path, needle in [(huge, "larger than 64 MiB"), (binary, "binary"), (Path("/dev/zero"), "endless")]:
        result = gpubench("import", path, "--gpu", "A10G", "--gpu-count", "1", "--data", data, timeout=60)
        checks.append(_refused(result, str(path), needle))
    ok = all(checks) and _snapshot(data) == before
    return Outcome(f"{sum(checks)}/3 refused clearly; data unchanged: {_snapshot(data) == before}", ok, 0, 0)


# ---------------------------------------------------------------- 5. secrets


@case("token through collect, import, build, publish", "zero hits in every file written and every command line; "
      "shown masked")
def secrets(fleet, tmp: Path) -> Outcome:
    import shutil

    a, b = fleet(2)
    a.set_standin(STARTUP_SECONDS=1, REQUIRE_TOKEN=TOKEN, RUN_SECONDS=0.1)
    b.set_standin(STARTUP_SECONDS=1, FAIL_AT_START=f"token {TOKEN} rejected")  # a server that logs the token
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns(".*"))
    env = {"HF_TOKEN": TOKEN}
    hits_in_cmdlines = 0
    proc = start_collect(fleet, inventory(tmp, [a, b]), data)
    while proc.poll() is None:
        hits_in_cmdlines += _cmdline_hits(TOKEN)
        time.sleep(0.02)
    out, err = proc.communicate()
    imported = gpubench("import", TGI_OUTPUT, "--gpu", "A10G", "--gpu-count", "1", "--data", data, env=env)
    built = gpubench("build", "--data", data, "--site-dir", tmp / "site", env=env)
    remote = tmp / "pages.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    work = tmp / "repo"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".venv", "site", "logs", "*.egg-info", ".git",
                                                            "__pycache__", "data"))
    shutil.copytree(data, work / "data")
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    published = gpubench("publish", str(remote), "--data", work / "data", env=env, timeout=600)
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(remote), str(tmp / "pages")], check=False)
    written = [data, tmp / "logs", tmp / "site", tmp / "pages", work / "site", work / "data"]
    file_hits = [hit for folder in written if folder.exists() for hit in files_containing(folder, TOKEN)]
    masked = "****" in (out + err) and TOKEN not in (out + err)
    outputs = imported.stdout + imported.stderr + built.stdout + built.stderr + published.stdout + published.stderr
    ok = (proc.returncode == 1 and imported.returncode == 0 and built.returncode == 0 and published.returncode == 0
          and (tmp / "pages" / "index.html").exists() and not file_hits and hits_in_cmdlines == 0 and masked
          and TOKEN not in outputs)
    observed = (f"files with the token: {len(file_hits)}; command lines: {hits_in_cmdlines}; masked on screen: "
                f"{masked}; publish exit {published.returncode}")
    return Outcome(observed, ok, containers_left(fleet), 0)


def _cmdline_hits(needle: str) -> int:
    hits = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    hits += needle.encode() in f.read()
            except OSError:
                pass
    return hits


# ---------------------------------------------------------------- 6. trust


@case("host key changed", "refused always (even with --accept-new-host-keys), fingerprint in the message", hosts=1)
def changed_host_key(fleet, tmp: Path) -> Outcome:
    (a,) = fleet(1)
    fake_key = tmp / "fake"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(fake_key)], check=True)
    known = tmp / "known_hosts"
    entry = f"[{a.address}]:{a.port} " + " ".join(fake_key.with_suffix(".pub").read_text().split()[:2])
    known.write_text(entry + "\n")
    data = tmp / "data"
    results = [collect(fleet, inventory(tmp, [a]), data, "--known-hosts", str(known), *extra)
               for extra in ([], ["--accept-new-host-keys"])]
    ok = all(r.returncode == 1 and "has CHANGED" in r.stderr and "SHA256:" in r.stderr for r in results)
    ok = ok and known.read_text() == entry + "\n" and not data.joinpath("runs.csv").exists()
    return Outcome(_last_error(results[1].stderr), ok, containers_left(fleet), 0)


@case("hostile GPU label through collect and the site", "shown as text, escaped in pages and chart specs",
      hosts=1)
def hostile_label_on_site(fleet, tmp: Path) -> Outcome:
    (a,) = fleet(1)
    label = "<img src=x onerror=alert(1)>"
    slow(a, 0.05)
    data = tmp / "data"
    out = collect(fleet, inventory(tmp, [a], **{a.alias: {"gpu": label}}), data)
    built = gpubench("build", "--data", data, "--site-dir", tmp / "site")
    pages = [p.read_text() for p in (tmp / "site").rglob("*.html")]
    raw_tag = sum(label in p for p in pages)
    escaped = sum("&lt;img src=x onerror=alert(1)&gt;" in p for p in pages)
    ok = out.returncode == 0 and built.returncode == 0 and raw_tag == 0 and escaped > 0
    return Outcome(f"pages with the raw tag: {raw_tag}; pages showing it escaped: {escaped}", ok,
                   containers_left(fleet), rows_lost(data, [a.alias]))


def _last_error(stderr: str, host: str | None = None) -> str:
    lines = [l for l in stderr.splitlines() if l.startswith("gpubench: error:")]
    if host:
        lines = [l for l in lines if f"host {host}" in l] or lines
    return (lines[-1] if lines else stderr.strip()[-200:]).replace("gpubench: error: ", "")[:160]
