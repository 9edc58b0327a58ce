"""Parsers that turn raw benchmark outputs into tidy records."""

from collector.parsers.tgi_benchmark import ParsedBenchmark, parse_tgi_benchmark

__all__ = ["ParsedBenchmark", "parse_tgi_benchmark"]
