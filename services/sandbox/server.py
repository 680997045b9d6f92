"""Run an aiohttp application on 127.0.0.1 in a background thread, for in-process use and tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web


class LoopbackServer:
    """An aiohttp app served on a free loopback port from its own thread and event loop."""

    def __init__(
        self,
        make_app: Callable[[str], web.Application],
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._make_app = make_app
        self._ssl_context = ssl_context
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{self.port}", daemon=True)
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> LoopbackServer:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"sandbox server failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout=15)

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Schedule ``coroutine`` on the server's loop from another thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            # Handlers still running (a client that hung up mid-answer) are cancelled, not leaked.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        try:
            # stopping waits this long for open connections (a client's watch stays open): 1 s was all of
            # `prdeck demo`'s quit time
            runner = web.AppRunner(self._make_app(self.url), access_log=None, handle_signals=False,
                                   shutdown_timeout=0.1)
            await runner.setup()
            await web.SockSite(runner, self._sock, ssl_context=self._ssl_context).start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()
