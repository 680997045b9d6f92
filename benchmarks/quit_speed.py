"""How long quitting takes: ``prdeck demo`` in a pseudo-terminal, ``q`` pressed once its list is up, timed until the
process has ended (the shell prompt would be back).

Prints the time per round and the median (target: well under a second; 1.2-1.5 s before the sandboxes stopped
at once and the interpreter's teardown was skipped).

Run: .venv/bin/python benchmarks/quit_speed.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

PRDECK = str(Path(sys.executable).with_name("prdeck"))


def one_round(timeout: float = 60) -> float:
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"}
    process = subprocess.Popen([PRDECK, "demo"], stdin=child, stdout=child, stderr=child, env=env,
                               start_new_session=True)
    os.close(child)
    seen, deadline = b"", time.monotonic() + timeout
    try:
        while b"storefront" not in seen and time.monotonic() < deadline:  # the list is on screen
            if select.select([main], [], [], 0.1)[0]:
                seen = (seen + os.read(main, 65536))[-200_000:]
        time.sleep(2)  # the first refresh and the preview watch have started, as after a moment's use
        pressed = time.monotonic()
        os.write(main, b"q")
        while process.poll() is None:
            if select.select([main], [], [], 0.01)[0]:
                with contextlib.suppress(OSError):  # the terminal closed as the process ended
                    os.read(main, 65536)
        return time.monotonic() - pressed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times = []
    for index in range(args.rounds):
        times.append(one_round())
        print(f"round {index + 1}: q -> process ended {times[-1]:.2f}s", flush=True)
    print(f"quit: median {statistics.median(times):.2f}s, max {max(times):.2f}s")


if __name__ == "__main__":
    main()
