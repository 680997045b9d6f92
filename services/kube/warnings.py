"""The API server's ``Warning`` response headers (RFC 7234, code 299): Pod Security "would violate ...",
duplicate ports, deprecated APIs. kubectl prints them; prdeck reports them with the launch."""

from __future__ import annotations

import re
from typing import Any

_WARNING = re.compile(r'^\s*299\s+\S+\s+"((?:[^"\\]|\\.)*)"')


def parse_warning(value: str) -> str | None:
    """The text of one ``Warning`` header value (``299 - "text"``); None for other codes or a malformed value."""
    match = _WARNING.match(value)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else None


def response_warnings(response: Any) -> list[str]:
    """Every 299 warning of a ``kubernetes`` client response (RESTResponse or urllib3 response), in order."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return []
    values = headers.getlist("Warning") if hasattr(headers, "getlist") else [headers.get("Warning")]
    warnings = []
    for value in values:
        # urllib3 may fold repeated headers into one value separated by ", "; split only between warnings
        for part in re.split(r'(?<=")\s*,\s*(?=299\s)', value or ""):
            text = parse_warning(part)
            if text:
                warnings.append(text)
    return warnings
