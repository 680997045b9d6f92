"""Make remote text safe to print on a terminal: no escape sequences, no bidi overrides, one line.

PR titles, branch and author names come from strangers. Written raw, an ESC could recolour or clear the
terminal and a RIGHT-TO-LEFT OVERRIDE could reorder the rest of the line; both are shown escaped instead.
Ordinary right-to-left text, emoji and CJK are kept as they are.
"""

from __future__ import annotations

import json
import re
from typing import Any

# DEL, C1 controls, bidi embedding/override/isolate marks, line and paragraph separators.
_UNSAFE_ABOVE_ASCII = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNSAFE_CHARS = re.compile(f"[\x00-\x1f{_UNSAFE_ABOVE_ASCII}]")
# In JSON output the indentation's newlines are the only raw C0 characters, and they stay.
_UNSAFE_IN_JSON = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSAFE_ABOVE_ASCII}]")


# Joiners and emoji presentation selectors: a terminal draws "👨‍👩‍👧" or "❤️" in a width no width table agrees
# on, so the columns after them shift. Without them each emoji stands alone, at the width every table knows.
_WIDTH_SHIFTERS = re.compile("[\u200d\ufe0e\ufe0f]")
# Stacked combining marks ("Zalgo" text) spill onto the lines above and below: at most two per letter are kept.
_STACKED_MARKS = re.compile("([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{2})"
                            "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\t\r":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, max_length: int | None = None) -> str:
    """One terminal-safe line: control and bidi-control characters become visible ``\\xNN`` escapes; emoji
    joiners and presentation selectors go, and stacked combining marks are cut to two (so columns line up)."""
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1] + "…"
    text = _UNSAFE_CHARS.sub(_escape, text)
    if not text.isascii():
        text = _STACKED_MARKS.sub(r"\1", _WIDTH_SHIFTERS.sub("", text))
    return text


def dumps(data: Any) -> str:
    """JSON that keeps every string exact but cannot drive a terminal: C1 and bidi controls are escaped.

    ``ensure_ascii=False`` keeps emoji and scripts readable; json already escapes C0 controls, and the
    remaining dangerous characters can only occur inside strings, where a ``\\uXXXX`` escape is equivalent.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
