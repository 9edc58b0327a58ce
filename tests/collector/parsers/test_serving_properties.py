"""Random, mutated and cut-off inputs: the serving parsers either parse or raise their own one-line error, never
anything else; redaction never raises anything else either."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mutations import mutated

from collector.data.errors import GpubenchError
from collector.parsers.secrets import REDACTED, redact_text
from collector.parsers.serving import ServingResult, parse_serving_output

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "serving"
# The small real files (the 0.8.5 c32 pair is 0.5 MB each: too slow to mutate hundreds of times) and the hand-made.
SMALL = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".json", ".jsonl", ".txt", ".log")
               and p.stat().st_size < 60_000)
TEXTS = [p.read_bytes().decode("utf-8") for p in SMALL]
JSON_TEXTS = [t for p, t in zip(SMALL, TEXTS) if p.suffix in (".json", ".jsonl")]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_own_error(data, path="fuzz") -> list[ServingResult] | None:
    try:
        results = parse_serving_output(data, path)
    except GpubenchError as e:
        message = str(e)
        assert message.startswith(path + ":") and "\n" not in message
        return None
    assert results
    for result in results:
        assert result.values
        for v in result.values:
            assert isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
            assert math.isfinite(v.value)
        rate = result.workload.request_rate
        assert rate is None or rate >= 0
    return results


def test_every_small_fixture_is_covered():
    assert len(SMALL) >= 10


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    parse_or_own_error(data)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list('{}[]":, \n\r\x1b=-0123456789.eEInfityNaul+#Serving BenchmarkResult'
                                             "SuccessfulrequsTotal(ms)PMedian")), max_size=3000))
def test_random_output_like_text(text):
    parse_or_own_error(text)


@SETTINGS
@given(st.sampled_from(JSON_TEXTS), st.data())
def test_every_prefix_of_a_json_result(text, data):
    cut = data.draw(st.integers(0, len(text)))
    parse_or_own_error(text[:cut])


# What a mutation puts in place of a character: the JSON's and the printed block's own tokens.
TOKENS = ['"', "{", "}", ":", ",", "\n", "\r", "\x1b[2K", "NaN", "Infinity", "-1", "1e309", "null", "true", "[]",
          "=" * 50, "Namespace(", "inf", "x"]


@SETTINGS
@given(mutated(TEXTS, TOKENS, longest_cut=60))
def test_mutated_real_files(text):
    parse_or_own_error(text)


@SETTINGS
@given(mutated(TEXTS, TOKENS, longest_cut=60))
def test_redaction_of_mutated_files_never_crashes_and_keeps_length_where_nothing_is_secret(text):
    try:
        redacted, paths = redact_text(text)
    except GpubenchError:
        return
    if not paths:
        assert redacted == text
    else:
        assert REDACTED in redacted


@SETTINGS
@given(st.sampled_from([t for t in JSON_TEXTS if '"api_key": null' in t]),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_an_api_key_of_any_text_is_removed_and_the_numbers_stay(text, secret):
    assume(secret != REDACTED)  # already the placeholder: nothing secret to remove, nothing to report
    with_key = text.replace('"api_key": null', '"api_key": ' + json.dumps(secret))
    redacted, paths = redact_text(with_key)
    assert "line 1: server_info.api_key" in paths
    document = json.loads(redacted)
    assert document["server_info"]["api_key"] == REDACTED
    assert document["server_info"]["internal_states"][0]["api_key"] == REDACTED
    assert redacted.endswith("\n") == with_key.endswith("\n")
    assert [r.values for r in parse_serving_output(redacted, "r")] == \
        [r.values for r in parse_serving_output(text, "o")]
