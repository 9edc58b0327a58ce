"""Reading a benchmark's output as text: size limits, encodings, and the terminal's escape sequences removed.

Shared by every parser: outputs arrive as pastes, files and terminal captures (progress bars, `\\r` redraws, the
alternate screen of full-screen tools).
"""

from __future__ import annotations

import re
from pathlib import Path

from collector.data.errors import GpubenchError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # real outputs are a few kB; captures with screen updates a few MB at most
# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), and two-byte escapes (ESC 7, ESC =, ESC ( B ...).
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[@-Z\\-_=>78])")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Leaving the alternate screen or moving the cursor starts new text: what came before on the same line is screen.
SCREEN_BREAK = re.compile(r"\x1b\[\?1049l|\x1b\[[0-9;]*[Hf]")


def read_output(path) -> bytes:
    """Read a benchmark output, refusing what cannot be one: a folder, a device, or more than the size limit (an
    endless stream such as /dev/zero stops there instead of filling memory)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise GpubenchError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise GpubenchError("is a directory, expected a file", path=str(path)) from None
    except OSError as e:
        raise GpubenchError(f"cannot read: {e.strerror}", path=str(path)) from None
    if len(data) > MAX_INPUT_BYTES:
        raise GpubenchError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB (or endless): not a benchmark output",
                            path=str(path))
    return data


def decode_input(data: bytes | str, path: str, expected: str = "the tables text-generation-benchmark prints") -> str:
    """Bytes to text, refusing what is not a text output (empty, binary, too large)."""
    if isinstance(data, str):
        text = data
        size = len(text.encode("utf-8", errors="replace"))
    else:
        size = len(data)
        if size > MAX_INPUT_BYTES:
            raise GpubenchError(f"{size / 1e6:.1f} MB is too large for a benchmark output "
                                f"(limit {MAX_INPUT_BYTES // 2**20} MiB)", path=path)
        if b"\x00" in data:
            raise GpubenchError(f"binary file (NUL bytes): expected {expected}", path=path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise GpubenchError("not UTF-8 text (binary data?)", path=path, line=line) from None
    if size > MAX_INPUT_BYTES:
        raise GpubenchError(f"too large for a benchmark output (limit {MAX_INPUT_BYTES // 2**20} MiB)", path=path)
    if not text.strip():
        raise GpubenchError(f"empty file: expected {expected}", path=path)
    return text


def clean_lines(text: str) -> list[str]:
    """Split into lines keeping line numbers, dropping escape sequences, carriage returns and control bytes."""
    lines = []
    for raw in text.split("\n"):
        if "\x1b" in raw:
            raw = ANSI_ESCAPE.sub("", SCREEN_BREAK.split(raw)[-1])
        if "\r" in raw:
            # A bare \r moves to column 0: what follows the last one is what a terminal shows.
            raw = raw.rstrip("\r").rsplit("\r", 1)[-1]
        lines.append(CONTROL_CHARS.sub("", raw).strip())
    return lines
