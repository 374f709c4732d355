"""Proves the offline promise: every command that runs the real pose model opens no network socket.

Each command runs under strace, which logs every socket the process (and any thread or child)
creates or connects. Only AF_UNIX is allowed (D-Bus for notifications, the audio server), and
never to a name resolver. A control run that looks a name up shows the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, sample_clip

STRACE = shutil.which("strace")
TRACED_CALLS = "socket,connect,sendto,sendmsg,bind"
# A resolver reached over a local socket (systemd-resolved, nscd) is a DNS query too.
RESOLVER_SOCKETS = re.compile(r"resolve|nscd", re.IGNORECASE)


def _strace_works() -> str | None:
    if STRACE is None:
        return "strace is not installed (make setup installs it on Debian)"
    probe = subprocess.run([STRACE, "-f", "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"strace cannot trace here ({probe.stderr.strip().splitlines()[-1:]})"
    return None


pytestmark = pytest.mark.skipif(_strace_works() is not None, reason=str(_strace_works()))


def network_use(command: list[str], tmp_path: Path, name: str) -> list[str]:
    """Run `command` under strace; return every traced line that touches a non-local socket."""
    assert STRACE is not None
    log = tmp_path / f"{name}.strace"
    home = tmp_path / f"home-{name}"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    env.pop("DISPLAY", None)
    result = subprocess.run(
        [STRACE, "-f", "-qq", "-e", f"trace={TRACED_CALLS}", "-o", str(log), *command],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    offending = []
    for line in log.read_text().splitlines():
        if ("socket(" in line and "AF_UNIX" not in line) or (
            re.search(r"\b(connect|sendto|sendmsg|bind)\(", line)
            and ("AF_INET" in line or "AF_INET6" in line or RESOLVER_SOCKETS.search(line))
        ):
            offending.append(line)
    return offending


def test_the_check_catches_a_name_lookup(tmp_path: Path) -> None:
    lookup = (
        "import socket\ntry: socket.getaddrinfo('play.googleapis.com', 443)\nexcept OSError: pass"
    )
    assert network_use([sys.executable, "-c", lookup], tmp_path, "control")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{clip}", "--json"],
        ["run", "{clip}", "--no-window", "--no-history", "--max-seconds", "6"],
        ["count", "{clip}", "--movement", "cat-cow", "--no-window", "--no-history"],
        ["calibrate", "{clip}", "--profile", "offline-test", "--max-seconds", "6"],
        ["record", "{clip}", "--landmarks", "{tmp}/out.jsonl.gz", "--max-seconds", "4"],
    ],
    ids=["analyze", "run", "count", "calibrate", "record"],
)
def test_commands_that_run_the_pose_model_open_no_network_socket(
    tmp_path: Path, args: list[str]
) -> None:
    clip = sample_clip("cat_cow" if args[0] == "count" else "neutral")
    command = [sys.executable, "-m", "coach"] + [a.format(clip=clip, tmp=tmp_path) for a in args]
    assert network_use(command, tmp_path, args[0]) == []
