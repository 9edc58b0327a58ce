"""Conversions between units of the data contract, each defined once."""

from __future__ import annotations


def prefill_tok_per_s(seq_per_s: float | None, sequence_length: int | None) -> float | None:
    """Prompt tokens/s from sequences/s: every sequence of a prefill carries `sequence_length` prompt tokens."""
    if seq_per_s is None or not sequence_length:
        return None
    return round(seq_per_s * sequence_length, 6)


def prefill_seq_per_s(tok_per_s: float | None, sequence_length: int | None) -> float | None:
    """Sequences/s from prompt tokens/s (the inverse of prefill_tok_per_s)."""
    if tok_per_s is None or not sequence_length:
        return None
    return round(tok_per_s / sequence_length, 6)
