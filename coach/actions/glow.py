"""Provides the glow nudge: a sink that deepens a glow at the screen's edges while a slouch lasts."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import IO, Protocol

from coach.config import Config, NudgeConfig, NudgeStyle, SlouchConfig
from coach.records import Condition, Frame, LiveStatus, PostureState, Snapshot

FAINT = 0.15
"""Share of the strength shown the moment a slouch is decided: a hint, before any nudge..."""
AT_HOLD = 0.75
"""...reached when the nudge fires (`[nudge] hold_s`), and the full strength a hold later."""
LEVEL_STEP = 0.02
"""Smaller changes are not sent (the overlay eases between levels anyway)."""


def glow_wanted(nudge: NudgeConfig) -> bool:
    """Whether the user chose the glow among the nudge styles."""
    return NudgeStyle.GLOW in nudge.style


def glow_level(snapshot: Snapshot, nudge: NudgeConfig, slouch: SlouchConfig) -> float:
    """How deep the glow should be now, 0..`nudge.glow_strength`.

    Faint when a slouch is decided, deepening to `AT_HOLD` of the strength at the nudge's hold
    time and to the full strength a hold later. Nothing while paused, snoozed, calibrating,
    away or upright, and nothing as soon as the measured posture is back within the exit
    thresholds (before the slouch state's own exit delay has run).
    """
    if snapshot.paused_until_s is not None or snapshot.snoozed_until_s is not None:
        return 0.0
    if snapshot.calibrating is not None or snapshot.state is not PostureState.SLOUCHED:
        return 0.0
    metrics = snapshot.metrics
    if metrics is not None and (
        metrics.score <= slouch.score_exit
        and metrics.forward_head <= slouch.forward_head_exit
        and metrics.thoracic_rounding <= slouch.rounding_exit
    ):
        return 0.0  # sitting up: the glow goes now, not after the exit delay
    held_s = max(0.0, snapshot.t_s - snapshot.slouch.since_s)
    hold_s = max(nudge.hold_s, 1.0)
    if held_s <= hold_s:
        share = FAINT + (AT_HOLD - FAINT) * held_s / hold_s
    else:
        share = AT_HOLD + (1.0 - AT_HOLD) * min(1.0, (held_s - hold_s) / hold_s)
    return nudge.glow_strength * share


def glow_unavailable(env: Mapping[str, str]) -> str | None:
    """Why no glow can be shown in this environment (None: it can)."""
    if env.get("DISPLAY"):
        return None  # X11, or XWayland under a Wayland desktop
    if env.get("WAYLAND_DISPLAY"):
        return "the glow needs XWayland (DISPLAY is not set under this Wayland session)"
    return "no display (DISPLAY is not set)"


class GlowOutput(Protocol):
    """Where glow levels go: the overlay process, or a recorder in tests."""

    def show(self, level: float) -> None:
        """Ask for the glow at `level` (0..1); never blocks."""

    def close(self) -> None:
        """Take the glow away for good."""


class OverlayProcess:
    """The overlay (`coach.actions.glow_overlay`) in a process of its own, fed over a pipe.

    Writes never block the frame loop (the pipe is non-blocking; a level the overlay has not
    read yet is superseded by the next one anyway). The process reads stdin to its end, so it
    ends with the coach however the coach ends.
    """

    def __init__(
        self,
        on_line: Callable[[str], None],
        *,
        env: Mapping[str, str] | None = None,
        monitors: str = "",
    ) -> None:
        """`on_line` takes each line the overlay says (`ready ...`, `unavailable ...`, `shown X`),
        on a reader thread. `monitors` overrides what the X server reports ("WxH+X+Y,...")."""
        command = [sys.executable, "-m", "coach.actions.glow_overlay"]
        if monitors:
            command += ["--monitors", monitors]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            text=False,
            start_new_session=True,  # a Ctrl-C in the terminal is the coach's to handle
        )
        stdin = self._process.stdin
        assert stdin is not None
        os.set_blocking(stdin.fileno(), False)
        self._stdin: IO[bytes] = stdin
        self._reader = threading.Thread(
            target=self._read, args=(on_line,), name="coach-glow-reader", daemon=True
        )
        self._reader.start()

    def _read(self, on_line: Callable[[str], None]) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for raw in stdout:
            on_line(raw.decode("utf-8", "replace").strip())

    @property
    def pid(self) -> int:
        """The overlay's process id."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """How the overlay ended (None while it runs)."""
        return self._process.returncode

    def show(self, level: float) -> None:
        """Send `level`; dropped when the overlay is gone or its pipe is full."""
        self._write(f"level {level:.3f}\n")

    def _write(self, line: str) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError, ValueError):
            os.write(self._stdin.fileno(), line.encode("ascii"))

    def close(self) -> None:
        """Ask the overlay to go, then make sure it has."""
        self._write("quit\n")
        with contextlib.suppress(OSError):
            self._stdin.close()
        try:
            self._process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=2.0)
        self._reader.join(timeout=1.0)
        if not self._reader.is_alive() and self._process.stdout is not None:
            self._process.stdout.close()


class GlowNudge:
    """Sink: the glow at the screen's edges follows `glow_level` of each snapshot."""

    def __init__(self, nudge: NudgeConfig, slouch: SlouchConfig, output: GlowOutput) -> None:
        self._nudge = nudge
        self._slouch = slouch
        self._output = output
        self.level = 0.0
        """The last level sent."""

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Send the glow's level when it changed enough to see, and whenever it reaches
        nothing or its deepest."""
        level = glow_level(snapshot, self._nudge, self._slouch) if glow_wanted(self._nudge) else 0.0
        bound = level in (0.0, self._nudge.glow_strength)
        if abs(level - self.level) >= LEVEL_STEP or (bound and level != self.level):
            self.level = level
            self._output.show(level)

    def reconfigure(self, config: Config) -> None:
        """Settings changed while running (the tray's Settings menu): its strength, its
        thresholds, or no glow at all (then it clears)."""
        self._nudge, self._slouch = config.nudge, config.slouch
        if not glow_wanted(self._nudge) and self.level != 0.0:
            self.level = 0.0
            self._output.show(0.0)

    def status(self, status: LiveStatus) -> None:
        """Clear the glow when the coach stops watching (paused, locked, asleep, no camera):
        no snapshot comes then to clear it."""
        if status.condition is not Condition.COACHING and self.level != 0.0:
            self.level = 0.0
            self._output.show(0.0)

    def close(self) -> None:
        """Clear the glow and end the overlay."""
        self._output.show(0.0)
        self._output.close()


def open_glow(
    nudge: NudgeConfig,
    slouch: SlouchConfig,
    note: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> GlowNudge | None:
    """The glow sink when the user chose it (None otherwise); `note` gets one line if the glow
    cannot be shown here (no display, no X server, no python-xlib), and nothing is drawn."""
    if not glow_wanted(nudge):
        return None
    env = os.environ if env is None else env
    why = glow_unavailable(env)
    if why is not None:
        note(f"The glow nudge is unavailable: {why}.")
        return None

    def heard(line: str) -> None:
        if line.startswith("unavailable "):
            note(f"The glow nudge is unavailable: {line.removeprefix('unavailable ')}.")

    return GlowNudge(nudge, slouch, OverlayProcess(heard, env=env))
