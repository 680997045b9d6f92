"""Loopback emulators of the services prdeck talks to, for ``prdeck demo``, ``prdeck sandbox`` and the tests."""
