"""Make remote text safe to print on a terminal: no escape sequences, no bidi overrides, one line.

PR titles, branch and author names come from strangers. Written raw, an ESC could recolour or clear the
terminal and a RIGHT-TO-LEFT OVERRIDE could reorder the rest of the line; both are shown escaped instead.
Ordinary right-to-left text, emoji and CJK are kept as they are.
"""

from __future__ import annotations

import json
from typing import Any

_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")


def _unsafe(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in _BIDI_CONTROLS or code in (0x2028, 0x2029)


def printable(text: str, *, max_length: int | None = None) -> str:
    """One terminal-safe line: control and bidi-control characters become visible ``\\xNN`` escapes."""
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1] + "…"
    if not any(_unsafe(char) for char in text):
        return text
    out = []
    for char in text:
        if char in "\n\t\r":
            out.append(" ")
        elif _unsafe(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def dumps(data: Any) -> str:
    """JSON that keeps every string exact but cannot drive a terminal: C1 and bidi controls are escaped.

    ``ensure_ascii=False`` keeps emoji and scripts readable; json already escapes C0 controls, and the
    remaining dangerous characters can only occur inside strings, where a ``\\uXXXX`` escape is equivalent.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not any(_unsafe(char) for char in text if char not in "\n"):
        return text
    return "".join(f"\\u{ord(char):04x}" if char != "\n" and _unsafe(char) else char for char in text)
