"""Secrets in raw benchmark outputs, found and replaced by "<redacted>" so the raw copies can be published.

Not tied to one tool: raw copies of any output (JSON, JSON lines, terminal captures) go through `redact_text`, and
messages that quote a file's content go through `one_line`.

Facts this module relies on (see docs/reference/serving-benchmarks.md):
- SGLang's JSON embeds the server's whole argument list (`server_info`), including `api_key` and friends.
- Captures hold environment dumps (`HF_TOKEN=...`), command lines (`--api-key x`), Python reprs (`api_key='x'`) and
  HTTP headers (`Bearer x`); a token may also stand alone (`hf_...`, `sk-...`, `ghp_...`).
"""

from __future__ import annotations

import json
import re

from collector.data.errors import GpubenchError
from collector.parsers.text_input import CONTROL_CHARS, decode_input

SECRET_WORDS = frozenset({"token", "key", "secret", "password", "passwd", "pwd", "auth", "authorization",
                          "credential", "credentials", "apikey", "cookie", "bearer"})
SECRET_JOINED = ("secret", "password", "passwd", "apikey", "credential", "authorization", "accesstoken",
                 "authtoken", "hftoken")
# Values shaped like a credential whatever their key: Hugging Face, OpenAI-style and GitHub tokens.
TOKEN_SHAPED = re.compile(r"\b(?:hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,})\b")
REDACTED = "<redacted>"


def is_secret_name(name: str) -> bool:
    """api_key, hf_token, HUGGING_FACE_HUB_TOKEN, ssl_keyfile_password, X-Api-Key: yes. tokenizer_path,
    max_total_tokens, ssl_keyfile: no (words are compared whole, so token counts and file paths stay)."""
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()) if w]
    joined = "".join(words)
    return any(w in SECRET_WORDS for w in words) or any(s in joined for s in SECRET_JOINED)


def redact_secrets(obj):
    """A copy of a parsed JSON value with every non-empty string under a secret-named key (and every token-shaped
    substring anywhere) replaced by "<redacted>", and the paths replaced (`server_info.api_key`, `a[0].b`).
    Numbers, booleans and nulls stay: a secret is text, and `bucket_time_to_first_token: [0.1, ...]` is not one."""
    copy, paths, _ = _redact(obj)
    return copy, paths


def _redact(obj):
    """redact_secrets, plus what was removed: (whole value, True) or (token-shaped part of a value, False)."""
    paths: list[str] = []
    removed: list[tuple[str, bool]] = []

    def walk(node, path: str, secret: bool):
        if isinstance(node, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k), secret or is_secret_name(str(k)))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]", secret) for i, v in enumerate(node)]
        if isinstance(node, str) and node and node != REDACTED and (secret or TOKEN_SHAPED.search(node)):
            paths.append(path or "(value)")
            if secret:
                removed.append((node, True))
                return REDACTED
            removed.extend((part, False) for part in TOKEN_SHAPED.findall(node))
            return TOKEN_SHAPED.sub(REDACTED, node)
        return node

    try:
        return walk(obj, "", False), paths, removed
    except RecursionError:
        raise GpubenchError("nested too deeply to check for secrets") from None


def _redact_json_document(doc: str) -> tuple[str, list[str], list[str]] | None:
    """Redact one JSON document in place, byte for byte except the secrets; None if `doc` is not JSON. Returns the
    text, the paths, and the whole secret values (to look for elsewhere in the file)."""
    try:
        obj = json.loads(doc)
    except (ValueError, RecursionError):
        return None
    redacted, paths, removed = _redact(obj)
    if not paths:
        return doc, [], []
    patched = doc
    for secret, whole in sorted(set(removed), key=lambda r: len(r[0]), reverse=True):
        # As Python writes it, with or without ensure_ascii; a whole value only as a complete JSON string.
        for literal in dict.fromkeys([json.dumps(secret), json.dumps(secret, ensure_ascii=False)]):
            patched = patched.replace(literal, json.dumps(REDACTED)) if whole else \
                patched.replace(literal[1:-1], REDACTED)
    try:
        clean = json.loads(patched)
        ok = not _redact(clean)[1] and json.dumps(clean) == json.dumps(redacted)
    except (ValueError, RecursionError):
        ok = False
    if not ok:  # the secret was also some other value or a key: write the redacted document out again
        body = doc.strip()
        patched = doc[: doc.index(body[0])] + json.dumps(redacted) + doc[len(doc.rstrip()):]
    return patched, paths, [secret for secret, whole in removed if whole]


TEXT_SECRET_PATTERNS = (
    # NAME=value / name='value' (environment, Python reprs), --flag value / --flag=value (command lines)
    re.compile(r"(?P<pre>(?<![\w-])(?P<name>[A-Za-z_][\w.-]*)=)(?P<value>'[^']*'|\"[^\"]*\"|[^\s,)'\"]+)"),
    re.compile(r"(?P<pre>(?<![\w-])--(?P<name>[A-Za-z][\w-]*)(?:=|\s+))(?P<value>'[^']*'|\"[^\"]*\"|[^\s-]\S*)"),
    re.compile(r"(?P<pre>\b(?P<name>Bearer)\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})"),
)
NOT_A_SECRET = frozenset({"None", "null", "''", '""', "False", "True", "false", "true", "<redacted>", "'<redacted>'"})
MIN_KNOWN_SECRET = 6  # shorter values redacted in a JSON document are not hunted elsewhere: too many false hits


def _redact_text_line(line: str, number: int, known: list[str]) -> tuple[str, list[str]]:
    paths = []

    def replace(match: re.Match) -> str:
        value = match.group("value")
        if not is_secret_name(match.group("name")) or value in NOT_A_SECRET or value.startswith("$"):
            return match.group(0)
        paths.append(f"line {number}: {match.group('name')}")
        quote = value[0] if value[0] in "'\"" and len(value) > 1 and value[-1] == value[0] else ""
        return match.group("pre") + quote + REDACTED + quote

    for pattern in TEXT_SECRET_PATTERNS:
        line = pattern.sub(replace, line)
    if TOKEN_SHAPED.search(line):
        paths.append(f"line {number}: token-shaped value")
        line = TOKEN_SHAPED.sub(REDACTED, line)
    for secret in known:
        anchored = re.compile(r"(?<![\w])" + re.escape(secret) + r"(?![\w])")
        if len(secret) >= MIN_KNOWN_SECRET and anchored.search(line):
            paths.append(f"line {number}: a value redacted elsewhere in the file")
            line = anchored.sub(REDACTED, line)
    return line, paths


def redact_text(raw_text: str | bytes, *, path: str = "<text>") -> tuple[str, list[str]]:
    """Redact secrets in a whole raw file (JSON, JSON lines, or a capture) so it can be published: JSON documents
    lose the values under secret-named keys; other lines lose `NAME=value`, `--secret-flag value`, `Bearer x`,
    token-shaped strings and any value already redacted in a JSON document of the file. Everything else stays
    byte-identical. Returns the text and where secrets were (`line 3: server_info.api_key`). Binary or non-UTF-8
    input raises GpubenchError naming `path`."""
    if isinstance(raw_text, str) and not raw_text.strip():
        return raw_text, []  # nothing to hide (decode_text would refuse an empty file)
    text = decode_text(raw_text, path)
    whole = _redact_json_document(text) if text.lstrip().startswith(("{", "[")) else None
    if whole is not None:
        return whole[0], [f"line 1: {p}" for p in whole[1]]
    lines, paths, known, structured = re.split(r"(?<=\n)", text), [], [], set()
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if body.lstrip().startswith("{") and (doc := _redact_json_document(body)) is not None:
            lines[i] = doc[0] + line[len(body):]
            paths += [f"line {i + 1}: {p}" for p in doc[1]]
            known += doc[2]
            structured.add(i)
    known = sorted(set(known), key=len, reverse=True)
    for i, line in enumerate(lines):
        if i not in structured:  # text patterns would break JSON escapes; JSON lines were redacted by key
            lines[i], more = _redact_text_line(line, i + 1, known)
            paths += more
    return "".join(lines), paths


# --------------------------------------------------------------------------------------------- reading text
# Here, not in serving_capture (which quotes with one_line from this module: the other way round would be a cycle):
# redact_text refuses what parse_serving_output refuses, in the same words, the raw copies being serving outputs.

EXPECTED = "the JSON result or the printed 'Serving Benchmark Result' of vllm bench serve or sglang.bench_serving"


def decode_text(data: str | bytes, path: str) -> str:
    """Text of a file, refusing what cannot be a benchmark output: binary, not UTF-8, too large, empty."""
    if isinstance(data, str) and "\x00" in data:
        raise GpubenchError(f"binary file (NUL bytes): expected {EXPECTED}", path=path,
                            line=data[: data.index("\x00")].count("\n") + 1)
    return decode_input(data, path, EXPECTED)


def one_line(text: str, limit: int = 160) -> str:
    """Quote file content inside a one-line message (never a credential: messages end up in logs)."""
    text = TOKEN_SHAPED.sub(REDACTED, CONTROL_CHARS.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."

