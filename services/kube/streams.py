"""Reading the kubernetes client's streaming responses (watch events, logs) line by line, and closing them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


def stream_line_batches(response: Any, chunk_size: int = 65536) -> Iterator[list[str]]:
    """The complete lines of each chunk of a streaming response, as they arrive (a chatty log sends many)."""
    pending = b""
    for chunk in response.stream(chunk_size, decode_content=True):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        if complete:
            yield [line.decode("utf-8", errors="replace") for line in complete]
    if pending:
        yield [pending.decode("utf-8", errors="replace")]


def stream_lines(response: Any) -> Iterator[str]:
    """Lines of a streaming response (watch events, log lines) as they arrive."""
    for batch in stream_line_batches(response, 4096):
        yield from batch


class StreamGuard:
    """Shuts down the streaming responses it tracks once ``stop`` is set, so a read blocked on a quiet stream
    returns at once instead of holding its thread (and the app's exit) until the next byte arrives."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def tracking(self, response: Any) -> Iterator[None]:
        with self._lock:
            self._open.add(response)
            if self._thread is None:
                self._thread = threading.Thread(target=self._shut_on_stop, name="prdeck-stream-guard", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(response)
            with contextlib.suppress(Exception):
                response.release_conn()

    def _shut_on_stop(self) -> None:
        self._stop.wait()
        with self._lock:
            responses = list(self._open)
        for response in responses:
            with contextlib.suppress(Exception):
                response.shutdown()
