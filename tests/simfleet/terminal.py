"""Drive a full-screen program through a real pseudo-terminal and read its screen
with pyte, as a person at a terminal would."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from typing import Sequence

import pyte

ALTERNATE_SCREEN_ON = b"\x1b[?1049h"
ALTERNATE_SCREEN_OFF = b"\x1b[?1049l"


class PtyProcess:
    """A command on a new pty of `rows` x `cols`; all output is kept in `output`."""

    def __init__(self, argv: Sequence[str], rows: int = 40, cols: int = 160,
                 env: dict[str, str] | None = None):
        self.rows, self.cols = rows, cols
        self.output = b""
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.exit_status: int | None = None
        self._pending = b""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], list(argv), env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read(self, timeout: float = 0.1) -> bytes:
        """Read what is available within `timeout`; feed it to the screen."""
        chunks = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the other side is closed
                data = b""
            if not data:
                self._reap(block=True)
                break
            chunks.append(data)
        data = b"".join(chunks)
        self.output += data
        self._feed(data)
        return data

    def _feed(self, data: bytes) -> None:
        # pyte ignores the alternate screen (ESC[?1049h); a real terminal shows a
        # blank one, and ratatui's first frame skips blank cells: start afresh.
        data = self._pending + data
        self._pending = b""
        for k in range(len(ALTERNATE_SCREEN_ON) - 1, 0, -1):
            if data.endswith(ALTERNATE_SCREEN_ON[:k]):  # maybe cut in two by a read
                data, self._pending = data[:-k], data[-k:]
                break
        before, marker, after = data.partition(ALTERNATE_SCREEN_ON)
        self.stream.feed(before)
        if marker:
            self.screen.reset()
            self._feed(after)

    def resize(self, rows: int, cols: int) -> None:
        """Change the terminal size (the program gets SIGWINCH)."""
        self.rows, self.cols = rows, cols
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.screen.resize(rows, cols)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait_for(self, predicate, timeout: float, what: str) -> None:
        """Read until predicate(self) is true; TimeoutError with the screen otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}; screen:\n{self.text()}")
            if self.exit_status is not None:
                raise RuntimeError(f"exited ({self.exit_status}) before {what}; screen:\n{self.text()}")
            self.read(0.1)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_exit(self, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while self.exit_status is None:
            if time.monotonic() > deadline:
                raise TimeoutError("process did not exit")
            self.read(0.1)
            self._reap(block=False)
        return self.exit_status

    def _reap(self, block: bool) -> None:
        if self.exit_status is not None:
            return
        pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        if pid:
            self.exit_status = os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        if self.exit_status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap(block=True)
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> "PtyProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
