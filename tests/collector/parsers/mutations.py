"""Real outputs mutated the way pastes, captures and cut-off files mutate them, for the parsers' property tests:
characters deleted, inserted or replaced by one of the format's own tokens, the text cut short, lines swapped or
repeated (one to six of these per example)."""

from __future__ import annotations

from hypothesis import strategies as st

OPS = ("delete", "insert", "replace", "truncate", "swap_lines", "dup_line")


def mutated(texts: list[str], tokens: list[str], *, longest_cut: int) -> st.SearchStrategy[str]:
    """One of ``texts``, mutated; a replacement is one of ``tokens``, a deletion at most ``longest_cut`` long."""

    @st.composite
    def strategy(draw) -> str:
        text = draw(st.sampled_from(texts))
        for _ in range(draw(st.integers(1, 6))):
            op = draw(st.sampled_from(OPS))
            pos = draw(st.integers(0, max(0, len(text) - 1)))
            if op == "delete":
                text = text[:pos] + text[pos + draw(st.integers(1, longest_cut)):]
            elif op == "insert":
                text = text[:pos] + draw(st.text(max_size=20)) + text[pos:]
            elif op == "replace":
                text = text[:pos] + draw(st.sampled_from(tokens)) + text[pos + 1:]
            elif op == "truncate":
                text = text[:pos]
            else:
                lines = text.split("\n")
                i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
                if op == "swap_lines":
                    lines[i], lines[j] = lines[j], lines[i]
                else:
                    lines.insert(j, lines[i])
                text = "\n".join(lines)
        return text

    return strategy()
