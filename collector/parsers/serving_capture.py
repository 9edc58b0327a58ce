"""Reading what the serving benchmarks print and save, before any tool's meaning is given to it: the printed
"Serving Benchmark Result" block, `Namespace(...)` argument dumps, a capture cut into one segment per invocation, the
JSON documents or lines of a saved result, and the numbers and texts in them checked for type.

Facts this module relies on (see docs/reference/serving-benchmarks.md):
- Both tools print the same layout: ` Serving Benchmark Result ` centred in `=`, rows `"{:<40} {:<10}"` (label, value,
  trailing spaces), section titles centred in `-`, a closing line of `=`.
- Captures mix stdout and stderr: shell traces (`+ ...`), log lines, tqdm progress as `\\r`-separated updates,
  `Namespace(...)` argument dumps (sometimes glued to a progress fragment), and the `cat` of the JSON after the block.
- Both tools save one JSON object per run (SGLang appends one line per run; vLLM with --append-result too).
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field

from collector.data.errors import GpubenchError
from collector.parsers.secrets import one_line
from collector.parsers.text_input import ANSI_ESCAPE, CONTROL_CHARS

# --------------------------------------------------------------------------------------------- lines and arguments

def logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) per piece of output: escape sequences dropped, each \\r-separated progress update its
    own piece (a terminal would overwrite them; a log keeps all of them, and the last may be real text)."""
    out = []
    for number, physical in enumerate(text.split("\n"), 1):
        if "\x1b" in physical:
            physical = ANSI_ESCAPE.sub("", physical)
        for piece in physical.split("\r"):
            piece = CONTROL_CHARS.sub("", piece).strip()
            if piece:
                out.append((number, piece))
    return out


def parse_namespace(line: str) -> dict[str, object]:
    """The simple arguments of a printed argparse Namespace: `Namespace(a='x', b=1, c=inf, d=None)` -> dict.
    Nested values (lists, dicts, <function ...>) are kept as their text; a cut-off dump gives what it has."""
    start = line.find("Namespace(")
    if start < 0:
        return {}
    body, pairs, depth, quote, current = line[start + len("Namespace("):], [], 0, "", []
    for ch in body:
        if quote:
            quote = "" if ch == quote and (not current or current[-1] != "\\") else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
            if depth < 0:
                break
        elif ch == "," and depth == 0:
            pairs.append("".join(current))
            current = []
            continue
        current.append(ch)
    pairs.append("".join(current))
    args: dict[str, object] = {}
    for pair in pairs:
        name, eq, raw = pair.strip().partition("=")
        if eq and name.isidentifier():
            args[name] = _namespace_value(raw.strip())
    return args


def _namespace_value(raw: str) -> object:
    if raw in ("inf", "-inf", "nan"):
        return float(raw)
    if len(raw) < 4096 and re.fullmatch(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|"
                                        r"None|True|False", raw):
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            pass
    return raw


def arg_text(value) -> str | None:
    """A parsed argument (or JSON value) that is non-empty text, else None."""
    return value if isinstance(value, str) and value else None


def arg_integer(value) -> int | None:
    """A parsed argument (or JSON value) that is a whole number (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --------------------------------------------------------------------------------------------- printed block

@dataclass
class PrintedBlock:
    line: int  # of the header
    rows: list[tuple[int, str, str]] = field(default_factory=list)  # (line, label as printed, value text)
    closed: bool = False

    def labels(self) -> set[str]:
        return {label.lower() for _, label, _ in self.rows}


def printed_number(text: str, label: str, path: str, line: int) -> int | float:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise GpubenchError(f"row {label!r}: {one_line(text, 40)!r} is not a number", path=path, line=line) from None


def printed_load_value(text: str | None, kind: str) -> int | float | None:
    """`inf`, `not set`, `trace` and numbers of the load rows."""
    if text is None or text.lower() in ("not set", "none", "trace"):
        return None
    if text.lower() in ("inf", "infinity"):
        return math.inf
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if kind == "int" and number.is_integer() else (number if kind == "float" else None)


# --------------------------------------------------------------------------------------------- captures

BLOCK_HEADER = re.compile(r"=+ ?Serving Benchmark Result ?=+")
BLOCK_END = re.compile(r"={20,}")
SECTION_TITLE = re.compile(r"-{3,}.*-{3,}")
ROW = re.compile(r"(?P<label>[^:]{1,80}?):\s+(?P<value>\S.*?)")
# Lines the tools print before a run: planned totals (SGLang), the load (vLLM), sampled length bounds (vLLM >= 0.20).
ANNOUNCEMENT = re.compile(r"#(?P<name>Input tokens|Output tokens): (?P<value>\d+)|"
                          r"(?P<name2>Traffic request rate|Maximum request concurrency): (?P<value2>\S+)")
SAMPLING = re.compile(r"Sampling input_len from \[(\d+), (\d+)\] and output_len from \[(\d+), (\d+)\]")
NOTE = re.compile(r"(?i)warning\b|.*\bsteady[ -]state\b|Failed requests during benchmark|Error \d+:")
ERROR_HINT = re.compile(r"(?i)error response from daemon|\berror\b|traceback|not running|no such container|killed")


@dataclass
class Segment:
    """The output of one invocation in a capture: its arguments and announcements, then its result(s)."""

    line: int
    namespace: dict[str, object] = field(default_factory=dict)
    announced: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    blocks: list[PrintedBlock] = field(default_factory=list)
    jsons: list[tuple[int, dict]] = field(default_factory=list)
    bad_json: list[str] = field(default_factory=list)
    other_json: list[str] = field(default_factory=list)  # e.g. a `curl /v1/models` answer: not a result
    error_hints: list[str] = field(default_factory=list)

    def has_result(self) -> bool:
        return bool(self.blocks or self.jsons)


def read_block(lines: list[tuple[int, str]], start: int) -> tuple[PrintedBlock, int]:
    """Rows from the header at `start` to the closing `=` line (or to the next header / the end: cut off)."""
    block = PrintedBlock(line=lines[start][0])
    i = start + 1
    while i < len(lines):
        number, text = lines[i]
        if BLOCK_HEADER.search(text):
            break
        i += 1
        if BLOCK_END.fullmatch(text):
            block.closed = True
            break
        if not SECTION_TITLE.fullmatch(text) and (row := ROW.fullmatch(text)):
            block.rows.append((number, row.group("label").strip(), row.group("value")))
    return block, i


def scan_capture(text: str) -> list[Segment]:
    lines = logical_lines(text)
    segments = [Segment(line=1)]
    i = 0
    while i < len(lines):
        number, line = lines[i]
        seg = segments[-1]
        if BLOCK_HEADER.search(line):
            block, i = read_block(lines, i)
            seg.blocks.append(block)
            continue
        i += 1
        namespace = parse_namespace(line) if "Namespace(" in line else {}
        announced = ANNOUNCEMENT.fullmatch(line) or SAMPLING.search(line)
        if (namespace or announced or NOTE.match(line)) and seg.has_result():
            seg = Segment(line=number)  # the next invocation starts: its arguments come before its result
            segments.append(seg)
        if namespace:
            seg.namespace.update(namespace)  # SGLang prints its arguments twice; the second dump wins
        elif isinstance(announced, re.Match) and announced.re is SAMPLING:
            seg.announced["sampling"] = ",".join(announced.groups())
        elif announced:
            seg.announced[announced.group("name") or announced.group("name2")] = (
                announced.group("value") or announced.group("value2"))
        elif line.startswith('{"'):  # JSON objects; a Python dict repr in a log line starts with {'
            _read_json_line(seg, number, line)
        elif NOTE.match(line):
            seg.notes.append(one_line(line, 240))
        elif ERROR_HINT.search(line):
            seg.error_hints.append(f"line {number}: {one_line(line)}")
    return segments


def _read_json_line(seg: Segment, number: int, line: str) -> None:
    # `cat` of a file without a final newline glues the next output (VLLM_BENCH_DONE) to the JSON: ignore it.
    try:
        obj, _ = json.JSONDecoder().raw_decode(line)
    except (ValueError, RecursionError) as e:
        seg.bad_json.append(f"line {number}: JSON that does not parse ({one_line(str(e), 80)}; cut off, or other "
                            "output written into it?)")
        return
    if isinstance(obj, dict) and "completed" in obj and "duration" in obj:
        seg.jsons.append((number, obj))
    else:
        keys = ", ".join(list(obj)[:6]) if isinstance(obj, dict) else type(obj).__name__
        seg.other_json.append(f"line {number} holds JSON that is not a result ({one_line(keys, 80)})")


def why_no_result(segments: list[Segment]) -> str:
    hints = [h for s in segments for h in s.error_hints]
    bad = [b for s in segments for b in s.bad_json + s.other_json]
    what = "no 'Serving Benchmark Result' block and no result JSON found"
    if bad:
        return f"{what}; {bad[0]}"
    if hints:
        return f"{what}: the benchmark did not run? ({hints[0]})"
    if any(s.namespace for s in segments):
        return f"{what}: the benchmark started (its arguments are printed) but printed no result"
    return f"{what}: not an output of vllm bench serve or sglang.bench_serving"


# --------------------------------------------------------------------------------------------- saved JSON

def json_documents(text: str, path: str) -> list[tuple[int, dict]]:
    """One JSON object (possibly pretty-printed) or JSON lines, one object per run. (A JSON-lines file with a broken
    line fails here and is then read like a capture: its intact runs are kept, the broken line is warned about.)"""
    try:
        docs = [(1, json.loads(text))]
    except RecursionError:
        raise GpubenchError("JSON nested too deeply", path=path) from None
    except ValueError as whole_error:
        docs = []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                docs.append((number, json.loads(line)))
            except (ValueError, RecursionError):
                e = whole_error if number == 1 else None
                detail = f"{e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError) else "invalid JSON"
                raise GpubenchError(f"not valid JSON ({detail}): a cut-off or corrupted result file?",
                                    path=path, line=number) from None
    for number, obj in docs:
        if not isinstance(obj, dict):
            raise GpubenchError(f"JSON {type(obj).__name__}, expected one object per run", path=path, line=number)
    return docs


def json_number(raw, key: str, path: str, line: int | None) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise GpubenchError(f"key {key!r}: expected a number, got {one_line(json.dumps(raw), 40)}",
                            path=path, line=line)
    return raw


def json_integer(obj: dict, key: str, path: str, line: int | None) -> int | None:
    raw = obj.get(key)
    if raw is None:
        return None
    value = json_number(raw, key, path, line)
    if isinstance(value, float) and not value.is_integer():
        raise GpubenchError(f"key {key!r}: expected a whole number, got {value}", path=path, line=line)
    return int(value)


def json_text(obj: dict, key: str, path: str, line: int | None) -> str | None:
    raw = obj.get(key)
    if raw is not None and not isinstance(raw, str):
        raise GpubenchError(f"key {key!r}: expected text, got {one_line(json.dumps(raw), 40)}", path=path, line=line)
    return raw


def request_rate(raw, key: str, path: str, line: int | None) -> float | None:
    """`"inf"` (vLLM), `Infinity` (SGLang), a number, or `"trace"` (SGLang replaying timestamps: None)."""
    if raw is None or raw == "trace":
        return None
    if isinstance(raw, str) and raw.strip().lower() in ("inf", "infinity"):
        return math.inf
    if isinstance(raw, str) and re.fullmatch(r"\d+(?:\.\d+)?", raw.strip()):
        return float(raw)
    value = json_number(raw, key, path, line)
    if math.isnan(value) or value < 0:
        raise GpubenchError(f"key {key!r}: {value} is not a request rate", path=path, line=line)
    return float(value)
