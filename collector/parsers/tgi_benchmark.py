"""Parse what `text-generation-benchmark` prints when it quits: up to three Markdown tables.

Facts this parser relies on (see docs/reference/tgi-benchmark.md):
- Tables: parameters (`| Parameter | Value |`), latency (`| Step | Batch Size | Average | Lowest | Highest | p50 |
  p90 | p99 |`) and throughput (`| Step | Batch Size | Average | Lowest | Highest |`). Any may be missing from a paste.
- In the latency and throughput tables equal vertically adjacent cells are merged: a blank cell repeats the cell
  above it in the same table. The tool never prints a blank cell otherwise.
- A batch size that failed prints `NaN`; the row after a NaN row is blank where it repeats the NaN.
- Pastes carry code fences, headings and prose between tables; terminal captures carry log lines, escape sequences of
  the full-screen display and `\\r\\n` line ends before the tables; a paste may stop in the middle of a row.
- Prefill "tokens/secs" means sequences/s before TGI 2.4.1 and prompt tokens/s after; the ratio to the latency of the
  same row tells which.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Mapping

from collector.data.errors import GpubenchError
from collector.data.schema import UNRELIABLE_STATS
from collector.data.units import prefill_seq_per_s, prefill_tok_per_s
from collector.parsers.text_input import clean_lines, decode_input

SEPARATOR = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$")

PARAMETER_HEADER = ("Parameter", "Value")
LATENCY_HEADER = ("Step", "Batch Size", "Average", "Lowest", "Highest", "p50", "p90", "p99")
THROUGHPUT_HEADER = ("Step", "Batch Size", "Average", "Lowest", "Highest")
STAT_OF_COLUMN = {"Average": "avg", "Lowest": "min", "Highest": "max", **{p: p for p in UNRELIABLE_STATS}}

LATENCY_METRICS = {
    "Prefill": "prefill_latency_ms",
    "Decode (token)": "decode_token_latency_ms",
    "Decode (total)": "decode_total_latency_ms",
}
THROUGHPUT_STEPS = ("Prefill", "Decode")



TOOL = "text-generation-benchmark"


@dataclass(frozen=True)
class Parameter:
    """One parameter of text-generation-benchmark: its run column, its row in the tool's parameter table, its flag."""

    name: str  # the column of runs.csv
    label: str  # the row label in the printed parameter table
    flag: str  # the command-line flag
    type: str  # str | int | float | bool (a bool is a flag without value); Option<..> prints as Some(x) / None


# The tool's whole vocabulary, in the order of its parameter table. Parser, importer, collector and site all read it.
PARAMETERS = (
    Parameter("tokenizer", "Model", "--tokenizer-name", "str"),
    Parameter("sequence_length", "Sequence Length", "--sequence-length", "int"),
    Parameter("decode_length", "Decode Length", "--decode-length", "int"),
    Parameter("top_n_tokens", "Top N Tokens", "--top-n-tokens", "int"),
    Parameter("n_runs", "N Runs", "--runs", "int"),
    Parameter("warmups", "Warmups", "--warmups", "int"),
    Parameter("temperature", "Temperature", "--temperature", "float"),
    Parameter("top_k", "Top K", "--top-k", "int"),
    Parameter("top_p", "Top P", "--top-p", "float"),
    Parameter("typical_p", "Typical P", "--typical-p", "float"),
    Parameter("repetition_penalty", "Repetition Penalty", "--repetition-penalty", "float"),
    Parameter("frequency_penalty", "Frequency Penalty", "--frequency-penalty", "float"),
    Parameter("watermark", "Watermark", "--watermark", "bool"),
    Parameter("do_sample", "Do Sample", "--do-sample", "bool"),
)
PARAMETER_BY_LABEL = {p.label: p for p in PARAMETERS}
BATCH_SIZE_FLAG = "--batch-size"
REVISION_FLAG = "--revision"


def parameter_flags(values: Mapping[str, object]) -> list[list[str]]:
    """The flags for the given parameter values (run columns), one [flag, value] or [flag] per set parameter, in
    the tool's order; None means the tool's default and gives no flag."""
    flags = []
    for p in PARAMETERS:
        value = values.get(p.name)
        if value is None or (p.type == "bool" and not value):
            continue
        if p.type == "bool":
            flags.append([p.flag])
        else:
            flags.append([p.flag, format(value, "g") if isinstance(value, float) else str(value)])
    return flags





@dataclass
class ParsedBenchmark:
    """The normalized content of one output: parameters, tidy rows, and what the parser had to assume."""

    path: str
    parameters: dict[str, object] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)  # batch_size, metric, stat, value (None = NaN / unknown)
    batch_sizes: list[int] = field(default_factory=list)
    failed_batch_sizes: list[int] = field(default_factory=list)
    prefill_throughput_formula: str | None = None  # "seq_per_s" | "tok_per_s" | None (unknown)
    tables: list[str] = field(default_factory=list)  # which tables were found: parameters, latency, throughput
    warnings: list[str] = field(default_factory=list)

    csv_header = ("batch_size", "metric", "stat", "value")

    def csv_rows(self) -> list[tuple]:
        return [(r["batch_size"], r["metric"], r["stat"], r["value"]) for r in self.rows]

    def to_document(self) -> dict:
        """The JSON document of `gpubench parse --format json`: everything parsed, each row marked reliable or not."""
        return {
            "file": self.path, "tool": "text-generation-benchmark", "parameters": self.parameters,
            "tables": self.tables, "batch_sizes": self.batch_sizes, "failed_batch_sizes": self.failed_batch_sizes,
            "prefill_throughput_formula": self.prefill_throughput_formula, "warnings": self.warnings,
            "rows": [{**r, "reliable": r["stat"] not in UNRELIABLE_STATS} for r in self.rows],
        }


@dataclass
class _Table:
    kind: str
    header_line: int
    header: tuple[str, ...]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, cells)


def split_cells(line: str) -> list[str]:
    inner = line[1:-1] if line.endswith("|") and len(line) > 1 else line[1:]
    return [c.strip() for c in inner.split("|")]


def find_tables(lines: list[str], path: str) -> tuple[list[_Table], list[str]]:
    """Locate the tables: a `|` header line followed by a separator line, then `|` rows."""
    tables: list[_Table] = []
    warnings: list[str] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.startswith("|") and i + 1 < n and SEPARATOR.match(lines[i + 1]):
            header = tuple(split_cells(line))
            kind = {PARAMETER_HEADER: "parameters", LATENCY_HEADER: "latency",
                    THROUGHPUT_HEADER: "throughput"}.get(header)
            if kind is None:
                raise GpubenchError(
                    "unknown table header " + repr(line[:120]) + "; expected the parameter, latency or throughput "
                    "table of text-generation-benchmark", path=path, line=i + 1)
            if any(t.kind == kind for t in tables):
                raise GpubenchError(f"a second {kind} table: one file must hold one benchmark output "
                                    "(split the file)", path=path, line=i + 1)
            table = _Table(kind, i + 1, header)
            i += 2
            while i < n and lines[i].startswith("|"):
                cells = split_cells(lines[i])
                complete = lines[i].endswith("|") and len(cells) == len(header)
                if not complete:
                    if _rest_is_blank(lines, i + 1):
                        warnings.append(f"{path}:{i + 1}: the output is cut off in the middle of this row; "
                                        f"kept the {len(table.rows)} complete row(s) of the {kind} table before it")
                        i = n
                        break
                    raise GpubenchError(f"garbled row: {len(cells)} cells where the {kind} table has "
                                        f"{len(header)}", path=path, line=i + 1)
                table.rows.append((i + 1, cells))
                i += 1
            tables.append(table)
            continue
        i += 1
    return tables, warnings


def _rest_is_blank(lines: list[str], start: int) -> bool:
    return all(not line or line.startswith("```") for line in lines[start:])


def parse_number(cell: str, unit: str, *, path: str, line: int, column: str) -> float | None:
    """`12.38 ms` -> 12.38; `NaN ms` -> None. The unit must be the table's."""
    parts = cell.split()
    if len(parts) != 2:
        raise GpubenchError(f"column {column}: {cell!r} is not a number followed by {unit!r}", path=path, line=line)
    number, found_unit = parts
    if found_unit != unit:
        raise GpubenchError(f"column {column}: unknown unit {found_unit!r} in {cell!r} (expected {unit!r})",
                            path=path, line=line)
    try:
        value = float(number)
    except ValueError:
        raise GpubenchError(f"column {column}: {number!r} is not a number", path=path, line=line) from None
    return value if math.isfinite(value) else None


def carry_down(table: _Table, path: str) -> list[tuple[int, list[str]]]:
    """Fill merged (blank) cells with the cell above them in the same table."""
    filled: list[tuple[int, list[str]]] = []
    previous: list[str] | None = None
    for line, cells in table.rows:
        if previous is None:
            for name, cell in zip(table.header, cells):
                if not cell:
                    raise GpubenchError(f"column {name}: blank in the first row, with no cell above to repeat",
                                        path=path, line=line)
            row = list(cells)
        else:
            row = [cell or above for cell, above in zip(cells, previous)]
        filled.append((line, row))
        previous = row
    return filled


def parse_parameters(table: _Table, path: str) -> tuple[dict[str, object], list[str]]:
    params: dict[str, object] = {}
    warnings = []
    for line, (name, value) in table.rows:
        if name not in PARAMETER_BY_LABEL:
            warnings.append(f"{path}:{line}: unknown parameter {name!r} ignored")
            continue
        p = PARAMETER_BY_LABEL[name]
        params[p.name] = _parameter_value(value, p.type, path=path, line=line, name=name)
    return params, warnings


def _parameter_value(text: str, kind: str, *, path: str, line: int, name: str) -> object:
    if text == "None" or text == "":
        return None
    match = re.fullmatch(r"Some\((.*)\)", text)
    if match:
        text = match.group(1)
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            return value if math.isfinite(value) else None
        if kind == "bool":
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
    except ValueError:
        raise GpubenchError(f"parameter {name}: {text!r} is not a valid {kind}", path=path, line=line) from None
    return text


def _batch_size(cell: str, *, path: str, line: int) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", cell) or int(cell) < 1:
        raise GpubenchError(f"column Batch Size: {cell!r} is not a batch size", path=path, line=line)
    return int(cell)


def _table_values(table: _Table, path: str, unit: str, steps) -> dict[tuple[str, int], dict[str, float | None]]:
    """(step, batch size) -> {stat: value} for a latency or throughput table."""
    out: dict[tuple[str, int], dict[str, float | None]] = {}
    for line, cells in carry_down(table, path):
        step = cells[0]
        if step not in steps:
            raise GpubenchError(f"column Step: unknown step {step!r} (expected {', '.join(steps)})",
                                path=path, line=line)
        batch = _batch_size(cells[1], path=path, line=line)
        if (step, batch) in out:
            continue  # a batch size given twice on the command line: the tool prints equal rows
        out[(step, batch)] = {
            STAT_OF_COLUMN[name]: parse_number(cell, unit, path=path, line=line, column=name)
            for name, cell in zip(table.header[2:], cells[2:])
        }
    return out


def detect_prefill_formula(latency: dict, throughput: dict, sequence_length: int | None) -> str | None:
    """Which formula produced the prefill 'tokens/secs': compare it with batch / latency of the same batch size.

    The ratio is about 1 for sequences/s (before TGI 2.4.1) and about the sequence length for tokens/s."""
    ratios = []
    for (step, batch), stats in throughput.items():
        lat = latency.get(("Prefill", batch), {}).get("avg")
        thr = stats.get("avg")
        if step == "Prefill" and lat and thr and lat > 0 and thr > 0:
            ratios.append(thr / (batch * 1000.0 / lat))
    if not ratios:
        return None
    ratio = statistics.median(ratios)
    if sequence_length and sequence_length > 1:
        near_seq = abs(math.log(ratio))
        near_tok = abs(math.log(ratio / sequence_length))
        return "seq_per_s" if near_seq <= near_tok else "tok_per_s"
    return "seq_per_s" if 0.67 <= ratio <= 1.5 else "tok_per_s"


def parse_tgi_benchmark(
    data: bytes | str,
    *,
    path: str = "<input>",
    sequence_length: int | None = None,
    engine_version: str | None = None,
) -> ParsedBenchmark:
    """Parse one text-generation-benchmark output into tidy rows.

    `sequence_length` and `engine_version` help when the paste lacks the parameter table: the first converts
    between sequences/s and prompt tokens/s, the second decides the prefill formula when no latency row is there.
    """
    text = decode_input(data, path)
    tables, warnings = find_tables(clean_lines(text), path)
    result = ParsedBenchmark(path=path, warnings=warnings)
    by_kind = {t.kind: t for t in tables}
    result.tables = [t.kind for t in tables]
    if "latency" not in by_kind and "throughput" not in by_kind:
        raise GpubenchError("no latency or throughput table found: expected the tables text-generation-benchmark "
                            "prints when it quits", path=path)
    if "parameters" in by_kind:
        result.parameters, more = parse_parameters(by_kind["parameters"], path)
        result.warnings += more
    seq_len = result.parameters.get("sequence_length") or sequence_length
    if seq_len and not result.parameters.get("sequence_length"):
        result.parameters["sequence_length"] = seq_len

    latency = _table_values(by_kind["latency"], path, "ms", tuple(LATENCY_METRICS)) if "latency" in by_kind else {}
    throughput = (_table_values(by_kind["throughput"], path, "tokens/secs", THROUGHPUT_STEPS)
                  if "throughput" in by_kind else {})

    formula = detect_prefill_formula(latency, throughput, seq_len)  # type: ignore[arg-type]
    if formula is None and any(step == "Prefill" for step, _ in throughput):
        formula = _formula_from_version(engine_version)
        if formula is None:
            result.warnings.append(f"{path}: cannot tell whether prefill throughput counts sequences or tokens "
                                   "(no prefill latency to compare with); pass --engine-version to keep it")
    result.prefill_throughput_formula = formula

    rows: list[dict] = []
    batches: list[int] = []
    for (step, batch), stats in latency.items():
        batches.append(batch)
        for stat, value in stats.items():
            rows.append({"batch_size": batch, "metric": LATENCY_METRICS[step], "stat": stat, "value": value})
    for (step, batch), stats in throughput.items():
        batches.append(batch)
        for stat, value in stats.items():
            for metric, converted in _throughput_metrics(step, value, formula, seq_len):  # type: ignore[arg-type]
                rows.append({"batch_size": batch, "metric": metric, "stat": stat, "value": converted})
    result.rows = rows
    result.batch_sizes = list(dict.fromkeys(batches))
    failed = {r["batch_size"] for r in rows if r["value"] is None and r["stat"] == "avg"}
    result.failed_batch_sizes = [b for b in result.batch_sizes if b in failed]
    if any(r["stat"] in UNRELIABLE_STATS for r in rows):
        result.warnings.append(f"{path}: p50/p90/p99 are kept but not trustworthy (the tool reads them from "
                               "partly sorted samples); rank on avg, min and max only")
    return result


def _throughput_metrics(step: str, value: float | None, formula: str | None, seq_len: int | None):
    if step == "Decode":
        yield "decode_throughput_tok_per_s", value
        return
    if formula == "seq_per_s":
        yield "prefill_throughput_seq_per_s", value
        if seq_len:
            yield "prefill_throughput_tok_per_s", prefill_tok_per_s(value, seq_len)
    elif formula == "tok_per_s":
        if seq_len:
            yield "prefill_throughput_seq_per_s", prefill_seq_per_s(value, seq_len)
        yield "prefill_throughput_tok_per_s", value


def _formula_from_version(version: str | None) -> str | None:
    if not version:
        return None
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        return None
    return "tok_per_s" if tuple(int(x) for x in match.groups()) >= (2, 4, 1) else "seq_per_s"
