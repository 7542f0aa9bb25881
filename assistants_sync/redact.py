"""Masking secrets out of text: what the tool prints, logs, raises and saves.

A secret is the API key, a configured header value, or a token registered later
(`Redactor.add`). Its whole value is replaced by ``****`` wherever it appears, and so
is any part of it of 8 or more characters that starts or ends it (a server that
echoes "sk-proj-AbCd...wXyZ", or cuts a key short, must not show it either). A secret
shorter than 8 characters is masked only whole, where it stands alone (not inside a
longer word or name), so that a short header value such as "1" does not mangle every
number.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any, TextIO

MASK = "****"
MIN_PART = 8  # the shortest prefix or suffix of a secret that is masked on its own


class Redactor:
    """The secrets of one run, and `mask` to remove them from any text. Thread-safe."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._long: tuple[str, ...] = ()  # masked whole or by any prefix or suffix of MIN_PART+
        self._short: re.Pattern[str] | None = None  # masked whole where they stand alone
        self._short_values: frozenset[str] = frozenset()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask `secret` from now on (e.g. a token obtained during the run). Empty values are ignored."""
        forms = {form for form in (secret.strip(), _json_escaped(secret.strip())) if form}
        with self._lock:
            long = set(self._long) | {form for form in forms if len(form) >= MIN_PART}
            short = self._short_values | {form for form in forms if len(form) < MIN_PART}
            # Longest first: a secret that contains another is masked as a whole.
            self._long = tuple(sorted(long, key=len, reverse=True))
            if short != self._short_values:
                self._short_values = frozenset(short)
                alternatives = "|".join(re.escape(s) for s in sorted(short, key=len, reverse=True))
                self._short = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    def mask(self, text: str) -> str:
        """`text` with every secret, and every prefix or suffix of 8+ characters of one, as ``****``."""
        if not text:
            return text
        long, short = self._long, self._short
        spans = [span for secret in long for span in _spans(text, secret)]
        if spans:
            text = _replace(text, spans)
        return short.sub(MASK, text) if short is not None else text

    def mask_data(self, value: Any) -> Any:
        """A copy of a JSON-like value (dicts, lists, strings...) with every string masked."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {self.mask(k) if isinstance(k, str) else k: self.mask_data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mask_data(v) for v in value]
        return value

    def reveals(self, value: Any) -> bool:
        """True when a JSON-like value holds a secret, or a part of one that `mask` would hide."""
        if isinstance(value, str):
            return self.mask(value) != value
        if isinstance(value, dict):
            return any(self.reveals(k) or self.reveals(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return any(self.reveals(v) for v in value)
        return False

def _spans(text: str, secret: str) -> list[tuple[int, int]]:
    """Where in `text` a prefix or suffix of `secret` of MIN_PART or more characters stands."""
    spans: list[tuple[int, int]] = []
    head, tail = secret[:MIN_PART], secret[-MIN_PART:]
    start = text.find(head)
    while start >= 0:
        end = start + MIN_PART
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        spans.append((start, end))
        start = text.find(head, start + 1)
    found = text.find(tail)
    while found >= 0:
        end = found + MIN_PART
        start = found
        while start > 0 and end - start < len(secret) and text[start - 1] == secret[-(end - start) - 1]:
            start -= 1
        spans.append((start, end))
        found = text.find(tail, found + 1)
    return spans


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each run of overlapping spans replaced by one MASK."""
    pieces: list[str] = []
    position = 0
    run_start, run_end = -1, -1
    for start, end in sorted(spans):
        if start > run_end:
            if run_start >= 0:
                pieces += [text[position:run_start], MASK]
                position = run_end
            run_start, run_end = start, end
        else:
            run_end = max(run_end, end)
    pieces += [text[position:run_start], MASK, text[run_end:]]
    return "".join(pieces)


class MaskingStream:
    """A text stream that masks every write before passing it on (stdout, stderr, a log)."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream = stream
        self._redactor = redactor

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._stream.write(self._redactor.mask(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno...: the wrapped stream's
        if name == "buffer":  # writing bytes to the stream below would pass the mask by
            raise AttributeError(name)
        return getattr(self._stream, name)


def _json_escaped(secret: str) -> str:
    """How the secret looks inside a JSON string (quotes and backslashes escaped)."""
    return json.dumps(secret, ensure_ascii=False)[1:-1]
