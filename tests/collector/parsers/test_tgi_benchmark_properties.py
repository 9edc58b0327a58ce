"""Random and mutated inputs: the parser either parses or raises its own error, never anything else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import mutated

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


TOKENS = ["|", " ", "\n", "NaN", "-", "\x1b[2J", "\r", "inf", "1e309"]  # what a mutation puts for a character


@SETTINGS
@given(mutated(TEXTS, TOKENS, longest_cut=40))
def test_mutated_fixtures(text):
    parse_or_own_error(text)


@SETTINGS
@given(mutated(TEXTS, TOKENS, longest_cut=40))
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
