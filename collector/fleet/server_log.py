"""Reading a server's log: its messages without the logger's prefix, and why it died."""

from __future__ import annotations

import re

# Most telling first: a CUDA OOM explains the "Shard failed" lines after it.
ROOT_CAUSES = ("OutOfMemory", "out of memory", "GatedRepo", "401 Client Error", "403 Client Error",
               "No space left", "RepositoryNotFound")
# tracing's prefix on TGI log lines: "<time>  INFO <target>: " (shown without it, the message is readable)
LOG_PREFIX = re.compile(r"^\S+Z\s+(?:TRACE|DEBUG|INFO|WARN|ERROR)\s+[\w:.-]+:\s*(?:text_generation_launcher:\s*)?")


def log_message(line: str) -> str:
    return LOG_PREFIX.sub("", line.strip())
ERROR_WORDS = ("ERROR", "Error", "error", "failed", "Failed", "panicked")


def failure_reason(log: str) -> str:
    """Why a server died, from its log: a known root cause (CUDA OOM, gated model, ...) if one is there, else the
    first error line (later ones tend to be generic, like `Error: ShardCannotStart`), else the last line."""
    raw = [line for line in log.splitlines() if line.strip()]
    lines = [log_message(line) for line in raw]
    for cause in ROOT_CAUSES:
        for line in lines:
            if cause in line:
                return line[-300:]
    for i, line in enumerate(raw):  # a Python traceback: the exception is the first unindented line after it
        if line.startswith("Traceback (most recent call last)"):
            for after in raw[i + 1:]:
                if not after[:1].isspace():
                    return after.strip()[-300:]
    for line, message in zip(raw, lines):
        if any(w in line for w in ERROR_WORDS):  # the raw line: its level says ERROR
            return message[-300:]
    return lines[-1][-300:] if lines else "no log output"
