"""Provides `printable`: text from outside (file names, labels) shown without terminal control codes.

A file name may hold escape sequences (ESC ] 0 ; ... sets a window title, others move the
cursor or rewrite the screen). rich's markup `escape()` handles only brackets, and rich
passes ESC through, so every name, path or label is made printable before it is shown.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape

# Kept as they are: a line break and a tab lay text out, they control nothing else.
_LAYOUT = frozenset("\n\t")
# Unicode "format" characters that reorder or hide text (bidi overrides, zero width).
_HIDING = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


def _shown(char: str) -> str:
    if char in _LAYOUT:
        return char
    if unicodedata.category(char) == "Cc" or char in _HIDING:
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return char


def printable(text: str) -> str:
    """`text` with every control character (C0, DEL, C1) and bidi or invisible mark as an escape.

    ESC becomes the four characters `\\x1b`, so nothing the terminal would act on remains;
    line breaks and tabs stay. Text with nothing to escape is returned unchanged.
    """
    if text.isprintable():
        return text
    return "".join(_shown(char) for char in text)


def literal(text: object) -> str:
    """`str(text)` made printable and escaped for rich markup: shown exactly, acted on never."""
    return escape(printable(str(text)))


def one_printable_line(text: str) -> str:
    """`text` on one printable line: line breaks and tabs escaped too (for an error line)."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")
