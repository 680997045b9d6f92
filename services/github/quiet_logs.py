"""PyGithub's and urllib3's log records kept off stderr: prdeck reports what they log as its own errors."""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("github", "urllib3")
"""PyGithub attaches a stderr handler at INFO to its logger when imported (its retries log ``Request GET /user
failed with 403`` under a rate limit); urllib3 logs connection retries as warnings, which Python prints on stderr
when logging is not configured. Either would land over the CLI's output or the TUI's screen."""


def quiet_library_logs() -> None:
    """Keep PyGithub's and urllib3's log records off stderr (they still reach a handler a caller adds)."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):  # PyGithub adds a StreamHandler on stderr at import
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)
        if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False
