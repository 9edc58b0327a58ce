"""The parser against real published outputs. Expected numbers are read off the fixture files by eye."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.data.errors import GpubenchError
from collector.parsers.tgi_benchmark import parse_tgi_benchmark

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tgi"


def parse_fixture(name: str, **kwargs):
    return parse_tgi_benchmark((FIXTURES / name).read_bytes(), path=name, **kwargs)


def value(parsed, batch, metric, stat="avg"):
    matches = [r["value"] for r in parsed.rows
               if (r["batch_size"], r["metric"], r["stat"]) == (batch, metric, stat)]
    assert len(matches) == 1, (batch, metric, stat, matches)
    return matches[0]


def has(parsed, batch, metric, stat="avg"):
    return any((r["batch_size"], r["metric"], r["stat"]) == (batch, metric, stat) for r in parsed.rows)


class TestCompleteOutput:
    """llama2-7b_1shard_tgi-pr868.txt: 13-row parameter table, full latency and throughput tables."""

    @pytest.fixture
    def parsed(self):
        return parse_fixture("llama2-7b_1shard_tgi-pr868.txt")

    def test_parameters(self, parsed):
        assert parsed.parameters == {
            "tokenizer": "hf-internal-testing/llama-tokenizer", "sequence_length": 10, "decode_length": 8,
            "top_n_tokens": None, "n_runs": 10, "warmups": 1, "temperature": None, "top_k": None, "top_p": None,
            "typical_p": None, "repetition_penalty": None, "watermark": False, "do_sample": False,
        }
        assert parsed.tables == ["parameters", "latency", "throughput"]

    def test_latency_rows(self, parsed):
        assert value(parsed, 1, "prefill_latency_ms") == 31.83
        assert value(parsed, 32, "prefill_latency_ms", "max") == 101.56
        assert value(parsed, 2, "decode_token_latency_ms", "p90") == 30.53
        assert value(parsed, 16, "decode_total_latency_ms", "min") == 229.82
        assert value(parsed, 32, "decode_total_latency_ms", "p99") == 264.65

    def test_throughput_rows_and_prefill_formula(self, parsed):
        # 1 / 31.83 ms = 31.4 per second: the pre-2.4.1 formula (sequences/s); x10 prompt tokens gives tokens/s.
        assert parsed.prefill_throughput_formula == "seq_per_s"
        assert value(parsed, 1, "prefill_throughput_seq_per_s") == 31.42
        assert value(parsed, 1, "prefill_throughput_tok_per_s") == pytest.approx(314.2)
        assert value(parsed, 32, "prefill_throughput_seq_per_s", "min") == 315.08
        assert value(parsed, 32, "decode_throughput_tok_per_s") == 848.02
        assert value(parsed, 4, "decode_throughput_tok_per_s", "max") == 129.73

    def test_shape(self, parsed):
        assert parsed.batch_sizes == [1, 2, 4, 8, 16, 32]
        assert parsed.failed_batch_sizes == []
        # 6 batches x (3 latency metrics x 6 stats + 3 throughput metrics x 3 stats)
        assert len(parsed.rows) == 6 * (3 * 6 + 3 * 3)
        assert not has(parsed, 1, "prefill_throughput_seq_per_s", "p50")
        assert any("p50/p90/p99" in w for w in parsed.warnings)


class TestNanAndBlankRows:
    """bloomz-7b1_tp2_nan-and-blank-rows.txt: batch 16 failed (NaN), batch 32 row blank (merged NaN)."""

    @pytest.fixture
    def parsed(self):
        return parse_fixture("bloomz-7b1_tp2_nan-and-blank-rows.txt")

    def test_failed_batches_are_empty_not_zero(self, parsed):
        assert parsed.failed_batch_sizes == [16, 32]
        for batch in (16, 32):
            for metric in ("prefill_latency_ms", "decode_token_latency_ms", "decode_total_latency_ms",
                           "decode_throughput_tok_per_s", "prefill_throughput_seq_per_s"):
                assert value(parsed, batch, metric) is None

    def test_good_batches(self, parsed):
        assert value(parsed, 8, "prefill_latency_ms") == 662.31
        assert value(parsed, 8, "decode_token_latency_ms", "p90") == 26.12
        assert value(parsed, 2, "decode_throughput_tok_per_s", "max") == 113.11
        # No parameter table: sequence length unknown, so prefill stays in the unit the tool used.
        assert parsed.parameters == {}
        assert parsed.prefill_throughput_formula == "seq_per_s"
        assert value(parsed, 1, "prefill_throughput_seq_per_s") == 9.40
        assert not has(parsed, 1, "prefill_throughput_tok_per_s")

    def test_sequence_length_given_adds_tokens_per_second(self):
        parsed = parse_fixture("bloomz-7b1_tp2_nan-and-blank-rows.txt", sequence_length=10)
        assert value(parsed, 4, "prefill_throughput_tok_per_s") == pytest.approx(119.2)
        assert value(parsed, 16, "prefill_throughput_tok_per_s") is None


class TestMergedCellsAndCutOff:
    """gaudi_latency-only_merged-cells_truncated.txt: latency table only, blank Average cells, cut mid-row."""

    @pytest.fixture
    def parsed(self):
        return parse_fixture("gaudi_latency-only_merged-cells_truncated.txt")

    def test_blank_cells_repeat_the_cell_above(self, parsed):
        assert value(parsed, 1, "decode_token_latency_ms") == 26.01
        assert value(parsed, 2, "decode_token_latency_ms") == 26.01
        assert value(parsed, 4, "decode_token_latency_ms") == 26.01
        assert value(parsed, 2, "decode_token_latency_ms", "min") == 26.00
        assert value(parsed, 4, "decode_token_latency_ms", "max") == 26.02

    def test_nan_batch(self, parsed):
        assert value(parsed, 32, "prefill_latency_ms") is None
        assert value(parsed, 16, "prefill_latency_ms") == 344.74
        assert 32 in parsed.failed_batch_sizes

    def test_cut_off_row_dropped_with_a_warning(self, parsed):
        assert not has(parsed, 8, "decode_token_latency_ms")
        assert parsed.tables == ["latency"]
        assert any(":12:" in w and "cut off" in w for w in parsed.warnings)
        assert not any(r["metric"].startswith("decode_total") for r in parsed.rows)
        assert parsed.prefill_throughput_formula is None


def test_rocm_output_without_parameter_table():
    parsed = parse_fixture("rocm-gfx90a_llama2-13b_no-parameter-table.txt")
    assert value(parsed, 1, "decode_total_latency_ms") == 2825.21
    assert value(parsed, 32, "decode_token_latency_ms") == 64.65
    assert value(parsed, 16, "decode_throughput_tok_per_s", "min") == 263.82
    assert value(parsed, 8, "prefill_throughput_seq_per_s") == 59.15
    assert parsed.batch_sizes == [1, 2, 4, 8, 16, 32]


def terminal_capture(tables: str) -> bytes:
    """What a capture through a pseudo-terminal looks like: log lines, the full-screen display, then the tables."""
    screen = (
        "\x1b[?1049h\x1b[?25l\x1b[1;1H\x1b[38;5;4mBatch: 1\x1b[0m  Batch: 2"
        "\x1b[3;5HTotal Progress\x1b[4;10H\x1b[42m     \x1b[0m 1 / 6"
        "\x1b[5;10H| tab | ->: change batch tab | q / CTRL + c: quit | +/-: zoom"
        "\x1b[4;17H2\x1b[4;17H6\x1b[?25h\x1b[?1049l"
    )
    logs = ("2024-01-01T00:00:00Z  INFO text_generation_benchmark: Loading tokenizer\n"
            "2024-01-01T00:00:01Z  INFO text_generation_benchmark: Tokenizer loaded\n"
            "2024-01-01T00:00:01Z  INFO text_generation_benchmark: Connect to model server\n"
            "2024-01-01T00:00:02Z  INFO text_generation_benchmark: Connected\n")
    return (logs + screen + tables).replace("\n", "\r\n").encode()


def test_terminal_capture_with_escapes_and_crlf():
    tables = (FIXTURES / "llama2-7b_1shard_tgi-pr868.txt").read_text()
    parsed = parse_tgi_benchmark(terminal_capture(tables), path="capture.log")
    plain = parse_fixture("llama2-7b_1shard_tgi-pr868.txt")
    assert parsed.parameters == plain.parameters
    assert parsed.rows == plain.rows
    assert value(parsed, 16, "decode_throughput_tok_per_s") == 486.49


def test_code_fences_headings_and_prose_between_tables():
    text = (FIXTURES / "llama2-7b_1shard_tgi-pr868.txt").read_text()
    params, latency, throughput = text.split("\n\n\n")
    edited = ("## Results on 1x A10G\n\nSome prose.\n\n```\n" + params + "\n```\n\n### Latency\n\n```\n"
              + latency + "\n```\nand throughput:\n```text\n" + throughput + "```\n")
    parsed = parse_tgi_benchmark(edited, path="README.md")
    assert parsed.tables == ["parameters", "latency", "throughput"]
    assert value(parsed, 8, "prefill_latency_ms") == 42.74
    assert value(parsed, 1, "decode_throughput_tok_per_s") == 32.84


def test_fourteen_parameter_rows_and_some_values():
    text = (FIXTURES / "llama2-7b_1shard_tgi-pr868.txt").read_text()
    text = text.replace("| Temperature        | None                                |",
                        "| Temperature        | Some(0.7)                           |")
    text = text.replace("| Top K              | None                                |",
                        "| Top K              | Some(10)                            |")
    text = text.replace("| Repetition Penalty | None                                |\n",
                        "| Repetition Penalty | Some(1.2)                           |\n"
                        "| Frequency Penalty  | Some(0.1)                           |\n")
    parsed = parse_tgi_benchmark(text, path="x")
    assert parsed.parameters["temperature"] == 0.7
    assert parsed.parameters["top_k"] == 10
    assert parsed.parameters["repetition_penalty"] == 1.2
    assert parsed.parameters["frequency_penalty"] == 0.1


def test_twelve_parameter_rows_before_top_n_tokens():
    text = (FIXTURES / "llama2-7b_1shard_tgi-pr868.txt").read_text()
    text = text.replace("| Top N Tokens       | None                                |\n", "")
    parsed = parse_tgi_benchmark(text, path="x")
    assert "top_n_tokens" not in parsed.parameters
    assert parsed.parameters["n_runs"] == 10


def test_new_prefill_formula_is_detected():
    # From TGI 2.4.1 prefill throughput = batch x sequence length / latency: 10 x 1 / 31.83 ms = 314.2 tokens/s.
    text = (FIXTURES / "llama2-7b_1shard_tgi-pr868.txt").read_text()
    text = text.replace("| Prefill | 1          | 31.42 tokens/secs  | 31.31 tokens/secs  | 31.51 tokens/secs  |",
                        "| Prefill | 1          | 314.20 tokens/secs | 313.10 tokens/secs | 315.10 tokens/secs |")
    for old, new in (("55.10", "551.00"), ("102.27", "1022.70"), ("187.18", "1871.80"), ("259.45", "2594.50"),
                     ("315.90", "3159.00")):
        text = text.replace(f"| {old} tokens/secs", f"| {new} tokens/secs")
    parsed = parse_tgi_benchmark(text, path="x")
    assert parsed.prefill_throughput_formula == "tok_per_s"
    assert value(parsed, 1, "prefill_throughput_tok_per_s") == 314.2
    assert value(parsed, 1, "prefill_throughput_seq_per_s") == pytest.approx(31.42)


@pytest.mark.parametrize("content, message, line", [
    (b"", "empty file", None),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", None),
    (b"just some notes\nno tables here\n", "no latency or throughput table", None),
    (b"| Step | Batch | Mean |\n|---|---|---|\n| Prefill | 1 | 2 ms |\n", "unknown table header", 1),
    (b"| Step | Batch Size | Average | Lowest | Highest |\n|---|---|---|---|---|\n"
     b"| Prefill | 1 | 2.00 ms | 1.00 ms |\n| Decode | 1 | 2.00 tokens/secs | 1.00 tokens/secs | 3.00 tokens/secs |\n",
     "garbled row", 3),
    (b"| Step | Batch Size | Average | Lowest | Highest |\n|---|---|---|---|---|\n"
     b"| Prefill | 1 | 2.00 furlongs | 1.00 tokens/secs | 3.00 tokens/secs |\n", "unknown unit 'furlongs'", 3),
    (b"| Step | Batch Size | Average | Lowest | Highest |\n|---|---|---|---|---|\n"
     b"| Warmup | 1 | 2.00 tokens/secs | 1.00 tokens/secs | 3.00 tokens/secs |\n", "unknown step", 3),
    (b"| Step | Batch Size | Average | Lowest | Highest |\n|---|---|---|---|---|\n"
     b"| Prefill | x1 | 2.00 tokens/secs | 1.00 tokens/secs | 3.00 tokens/secs |\n", "not a batch size", 3),
    (b"| Step | Batch Size | Average | Lowest | Highest |\n|---|---|---|---|---|\n"
     b"|  | 1 | 2.00 tokens/secs | 1.00 tokens/secs | 3.00 tokens/secs |\n", "blank in the first row", 3),
])
def test_bad_input_names_file_line_and_problem(content, message, line):
    with pytest.raises(GpubenchError) as err:
        parse_tgi_benchmark(content, path="bad.txt")
    assert message in str(err.value)
    assert str(err.value).startswith("bad.txt:" + (f"{line}:" if line else ""))
