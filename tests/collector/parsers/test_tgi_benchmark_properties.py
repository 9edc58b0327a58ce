"""Random and mutated inputs: the parser either parses or raises its own error, never anything else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.data.errors import GpubenchError
from collector.parsers.tgi_benchmark import parse_tgi_benchmark

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "tgi").glob("*.txt"))
TEXTS = [f.read_text() for f in FIXTURES]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_own_error(data):
    try:
        parsed = parse_tgi_benchmark(data, path="fuzz")
    except GpubenchError as e:
        assert str(e).startswith("fuzz")
        return None
    for row in parsed.rows:
        assert isinstance(row["batch_size"], int) and row["batch_size"] >= 1
        assert row["value"] is None or row["value"] == row["value"]  # never NaN: unknown is None
    return parsed


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    parse_or_own_error(data)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("| -\n\r\x1b[0123456789.;?hlHNaNms/tokensecPrfilDd()SptBazAvgLwHp")),
               max_size=2000))
def test_random_table_like_text(text):
    parse_or_own_error(text)


@st.composite
def mutated_fixture(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "swap_lines", "dup_line"]))
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        if op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        elif op == "insert":
            text = text[:pos] + draw(st.text(max_size=20)) + text[pos:]
        elif op == "replace":
            text = text[:pos] + draw(st.sampled_from(["|", " ", "\n", "NaN", "-", "\x1b[2J", "\r", "inf", "1e309"])) \
                + text[pos + 1:]
        elif op == "truncate":
            text = text[:pos]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "swap_lines":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(i, lines[j])
            text = "\n".join(lines)
    return text


@SETTINGS
@given(mutated_fixture())
def test_mutated_fixtures(text):
    parse_or_own_error(text)


@SETTINGS
@given(mutated_fixture())
def test_mutated_fixtures_as_crlf_bytes(text):
    parse_or_own_error(text.replace("\n", "\r\n").encode("utf-8", errors="surrogatepass"))


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(TEXTS), st.integers(min_value=1))
def test_any_prefix_of_a_real_output_keeps_only_complete_rows(text, cut):
    cut = cut % (len(text) + 1)
    parsed = parse_or_own_error(text[:cut])
    full = parse_tgi_benchmark(text, path="full")
    if parsed is not None:
        full_rows = {(r["batch_size"], r["metric"], r["stat"]): r["value"] for r in full.rows}
        for row in parsed.rows:
            key = (row["batch_size"], row["metric"], row["stat"])
            if not row["metric"].startswith("prefill_throughput"):  # unit may be undecided on a short prefix
                assert full_rows[key] == row["value"]
