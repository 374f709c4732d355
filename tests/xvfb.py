"""A private Xvfb screen for the tests and benchmarks that draw windows."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator


@contextlib.contextmanager
def xvfb_screen(width_px: int = 1024, height_px: int = 768) -> Iterator[str]:
    """Start Xvfb on a free display (-displayfd) and yield its name; -noreset: clients may
    connect and leave often. The caller checks that Xvfb is installed."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [
            *("Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width_px}x{height_px}x24"),
            *("-nolisten", "tcp", "-noreset"),
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
