"""Child processes of the test session: started so they die with it, stopped by pid."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Sequence

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    # Only the process we start gets it; start from the main thread, since the
    # signal fires when the creating *thread* exits.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(
    args: Sequence[str],
    *,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: int | None = None,
) -> subprocess.Popen:
    """Start a long-lived helper process that is killed if the test session dies."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else out,
            stderr=out,
            env=env,
            preexec_fn=_die_with_parent,
            close_fds=True,
        )
    finally:
        if log:
            out.close()


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.02
) -> object:
    """Poll `condition` until it returns something truthy; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def children_of(pid: int) -> list[int]:
    """All descendants of `pid`, deepest first."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found[::-1]


def kill_pids(pids: Sequence[int], sig: int = signal.SIGKILL, wait: float = 5.0) -> None:
    """Signal each pid, then wait (up to `wait` seconds) until they are gone."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def mounts_under(root: Path) -> list[str]:
    """Mount points below `root`, deepest first."""
    prefix = str(root).rstrip("/") + "/"
    points = []
    with open("/proc/self/mounts") as f:
        for line in f:
            point = line.split()[1].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all(root: Path) -> None:
    """Lazily unmount everything below `root` (dockerd leaves its data-root bind
    mount, and overlay mounts of containers that were running)."""
    for _ in range(3):
        points = mounts_under(root)
        if not points:
            return
        for point in points:
            subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL, check=False)
