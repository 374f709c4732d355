"""Provides `coach doctor`: one line per thing the coach needs, what is missing and how to fix it.

Each check is a small function returning a `CheckResult`. Required checks (the pose model,
a camera or a fallback video, the history) decide the exit status; the desktop extras
(notifications, sound, the tray) only warn, since the coach runs without them.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib.metadata
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from coach.config import Config, PoseConfig, SourceConfig
from coach.errors import CoachError, ModelError, one_line
from coach.pose.model_store import DEFAULT_MODEL_NAME, default_models_dir

CAMERA_TIMEOUT_S: Final = 5.0
"""How long the camera or stream gets to deliver its first frame."""


class Status(enum.Enum):
    """How one check came out."""

    OK = "ok"
    WARN = "warn"
    """Missing, but the coach runs without it (a desktop extra, or a fallback is in place)."""
    FAIL = "fail"


_SYMBOLS: Final = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗"}


@dataclass(frozen=True)
class CheckResult:
    """One check: what it looked at, how it came out, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self, *, symbols: bool) -> str:
        """One line for the terminal: ✓/!/✗ (or ok/warn/fail when not a tty)."""
        mark = _SYMBOLS[self.status] if symbols else f"{self.status.value:<4}"
        fix = f"; {self.fix}" if self.fix and self.status is not Status.OK else ""
        return f"{mark} {self.name:<13} {self.detail}{fix}"


def check_camera(
    source: str,
    config: SourceConfig,
    *,
    fallback_video: Path | None = None,
    timeout_s: float = CAMERA_TIMEOUT_S,
) -> CheckResult:
    """Open the camera or stream briefly and read one frame (no reconnecting)."""
    from coach.records import Frame
    from coach.source import SourceKind, open_frames, parse_source

    spec = parse_source(source)
    if spec.kind is SourceKind.LANDMARKS:
        return CheckResult("camera", Status.OK, f"{spec} is a landmark recording: no camera used")
    quick = dataclasses.replace(
        config,
        stream_open_timeout_s=min(config.stream_open_timeout_s, timeout_s),
        stream_read_timeout_s=timeout_s,
        reconnect_s=0.0,
    )
    try:
        with open_frames(spec, quick) as frames:
            first = next(iter(frames.frames()), None)
    except CoachError as exc:
        problem = one_line(exc)
    else:
        if isinstance(first, Frame):
            height, width = first.image.shape[:2]
            return CheckResult("camera", Status.OK, f"{spec}: a {width}x{height} frame read")
        problem = f"{spec} opened but sent no frame; check it and try again"
    if fallback_video is not None and fallback_video.is_file():
        return CheckResult(
            "camera",
            Status.WARN,
            f"{problem} (coach run falls back to {fallback_video})",
        )
    return CheckResult("camera", Status.FAIL, problem)


def check_model(model: Path | None, pose: PoseConfig) -> CheckResult:
    """The pose model is there, loads on the runtime, has the right tensors and runs once."""
    from coach.pose.estimator import PoseEstimator
    from coach.records import Frame

    path = model.expanduser() if model is not None else default_models_dir() / DEFAULT_MODEL_NAME
    if model is None and not path.exists():
        return CheckResult(
            "pose model",
            Status.FAIL,
            f"no pose model at {path}",
            "run `coach models` (builds it once from the mediapipe wheel on PyPI, ~35 MB)",
        )
    blank = Frame(image=np.zeros((480, 640, 3), dtype=np.uint8), t_s=0.0, index=0)
    try:
        with PoseEstimator(path, pose) as estimator:
            estimator.estimate(blank)
    except ModelError as exc:
        fix = "run `coach models --rebuild`" if model is None else ""
        return CheckResult("pose model", Status.FAIL, one_line(exc), fix)
    return CheckResult("pose model", Status.OK, f"{path} loads, has the BlazePose tensors, runs")


def check_history(db: Path | None) -> CheckResult:
    """The history opens read-only, passes SQLite's quick_check, and its folder takes files."""
    from coach.history.failures import describe_failure, filesystem_problem
    from coach.history.store import default_db_path

    path = (db.expanduser() if db is not None else default_db_path()).absolute()
    if not path.exists():
        folder = next(p for p in path.parents if p.exists())
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            return CheckResult(
                "history",
                Status.FAIL,
                f"no history yet, and {folder} cannot hold the folder {path.parent}",
                "make it writable, or use --db PATH",
            )
        return CheckResult(
            "history", Status.OK, f"no history yet; the first session creates {path}"
        )
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return CheckResult("history", Status.FAIL, describe_failure(path, exc))
    if verdict != ["ok"]:
        return CheckResult(
            "history",
            Status.FAIL,
            f"{path} is damaged ({'; '.join(map(str, verdict[:2]))})",
            "save what it holds with `coach export --csv DIR`, then move it aside",
        )
    problem = filesystem_problem(path)
    if problem is not None:
        return CheckResult("history", Status.FAIL, problem)
    return CheckResult("history", Status.OK, f"{path} is intact and writable")


def check_notifications(env: Mapping[str, str], platform: str = sys.platform) -> CheckResult:
    """Linux: a session bus, and a daemon owning org.freedesktop.Notifications on it."""
    from coach.desktop import probe

    if not platform.startswith("linux"):
        return CheckResult("notifications", Status.OK, "provided by the system")
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    if not address:
        return CheckResult(
            "notifications",
            Status.WARN,
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): nudges stay on screen",
            "run the coach inside your desktop session",
        )
    try:
        server = probe.notification_server(address)
    except probe.ProbeFailed as exc:
        return CheckResult(
            "notifications",
            Status.WARN,
            f"the session bus did not answer ({exc})",
            "log out and in again, or check dbus",
        )
    if server is None:
        return CheckResult(
            "notifications",
            Status.WARN,
            "no notification daemon owns org.freedesktop.Notifications",
            "start one (your desktop's, or dunst / mako)",
        )
    if not server.actions:
        return CheckResult(
            "notifications",
            Status.WARN,
            f"{server.name} {server.version} shows no buttons: answer prompts with the keys",
            "use a daemon with actions (dunst, mako, GNOME, KDE)",
        )
    return CheckResult(
        "notifications", Status.OK, f"{server.name} {server.version}, with action buttons"
    )


def check_sound() -> CheckResult:
    """PortAudio is there and has an output device for the chime."""
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        return CheckResult(
            "sound",
            Status.WARN,
            f"no chime: {one_line(exc)}",
            "install PortAudio (Debian: apt install libportaudio2)",
        )
    try:
        device = sounddevice.query_devices(kind="output")
    except (sounddevice.PortAudioError, ValueError) as exc:
        return CheckResult(
            "sound",
            Status.WARN,
            f"no chime: no sound output device ({one_line(exc)})",
            "plug in or enable speakers or headphones",
        )
    return CheckResult("sound", Status.OK, f"chime plays on {device['name']}")


def check_tray(env: Mapping[str, str], platform: str = sys.platform) -> CheckResult:
    """Linux: a StatusNotifierWatcher with a host, which `coach start` shows its icon in.

    An XEmbed tray alone is found and named, as not enough: the coach's icon is a
    StatusNotifierItem, and `coach start` uses the terminal view without a host for it.
    """
    from coach.desktop import probe

    if not platform.startswith("linux"):
        return CheckResult("tray", Status.OK, "provided by the system")
    missing: list[str] = []
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    sni = "StatusNotifierWatcher"
    try:
        watcher = probe.status_notifier_watcher(address) if address else None
    except probe.ProbeFailed as exc:
        missing.append(f"{sni} (session bus: {exc})")
    else:
        if address and probe.tray_host_problem(watcher) is None:
            return CheckResult(
                "tray", Status.OK, f"a {sni} with a host: `coach start` shows its icon"
            )
        if watcher is not None:
            missing.append(f"a host for the {sni} (none registered)")
        else:
            missing.append(f"a {sni} on the session bus" if address else "a session bus")
    display = env.get("DISPLAY")
    xembed = False
    try:
        xembed = bool(display) and probe.xembed_tray(display or "")
    except probe.ProbeFailed as exc:
        missing.append(f"an XEmbed tray ({exc})")
    else:
        if not xembed:
            missing.append(f"an XEmbed tray on {display}" if display else "an X display")
    if xembed:
        return CheckResult(
            "tray",
            Status.WARN,
            f"only an XEmbed tray on {display}, which `coach start` cannot use (its icon needs "
            f"a StatusNotifierItem host; missing {' and '.join(missing)}): it uses the "
            "terminal view",
            "run a StatusNotifierItem host that docks into that tray (snixembed), or use a "
            "panel with one (xfce4-panel, KDE Plasma, GNOME with the AppIndicator extension)",
        )
    return CheckResult(
        "tray",
        Status.WARN,
        f"no tray host: missing {' and '.join(missing)}; `coach start` uses the terminal view",
        "use a panel with a system tray (GNOME: the AppIndicator extension)",
    )


def check_lock_signals(env: Mapping[str, str], platform: str = sys.platform) -> CheckResult:
    """Linux: logind on the system bus (sleep, session lock) and screensavers on the session bus."""
    from coach.desktop import probe
    from coach.desktop.session_signals import LOGIND, SCREENSAVERS, system_bus_address

    name = "lock & sleep"
    if not platform.startswith("linux"):
        return CheckResult(
            name,
            Status.WARN,
            "watched on Linux only: the camera stays on while the screen is locked",
        )
    found: list[str] = []
    missing: list[str] = []
    try:
        if probe.owned_names(system_bus_address(env), (LOGIND,), "the system bus"):
            found.append("logind (sleep, session lock)")
        else:
            missing.append("no logind on the system bus")
    except probe.ProbeFailed as exc:
        missing.append(f"no logind ({exc})")
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    try:
        savers = tuple(s.name for s in SCREENSAVERS)
        found.extend(probe.owned_names(address, savers) if address else ())
    except probe.ProbeFailed as exc:
        missing.append(f"no screensaver ({exc})")
    if not found:
        missing.append("no screensaver on the session bus" if address else "no session bus")
        return CheckResult(
            name,
            Status.WARN,
            f"no lock or sleep signals ({'; '.join(missing)}): the camera stays on while the "
            "screen is locked or the machine sleeps",
            "run the coach inside your desktop session (systemd-logind, a screen locker)",
        )
    if not found[0].startswith("logind"):
        found.append("no logind, so sleep is not seen")
    return CheckResult(name, Status.OK, ", ".join(found))


def check_autostart() -> CheckResult:
    """Whether the coach starts at login, and is started again there if it is killed."""
    from coach.desktop import autostart

    name = "autostart"
    try:
        found = autostart.status()
    except CoachError as exc:
        return CheckResult(name, Status.WARN, one_line(exc))
    if found.state is autostart.State.OFF:
        # Not starting at login is a choice, not a fault.
        return CheckResult(
            name,
            Status.OK,
            "off: the coach runs when you start it (`coach autostart on` starts it at every "
            "login, and again if it is killed)",
        )
    if found.state is not autostart.State.ON:
        return CheckResult(name, Status.WARN, found.describe().removeprefix("autostart: "))
    if not found.respawns:
        return CheckResult(
            name,
            Status.WARN,
            f"{found.path} starts the coach at login, but not again if it is killed",
            "run `coach autostart on` to update it",
        )
    return CheckResult(
        name, Status.OK, f"{found.path} starts the coach at login, and again if it is killed"
    )


def check_network_promise() -> CheckResult:
    """The pose runtime is LiteRT, and MediaPipe (which reports usage) is not loaded."""
    try:
        version = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        return CheckResult(
            "offline",
            Status.FAIL,
            "the LiteRT runtime (ai-edge-litert) is not installed",
            "reinstall the coach (pip install coach pulls it in)",
        )
    if "mediapipe" in sys.modules:
        return CheckResult(
            "offline",
            Status.FAIL,
            "mediapipe is loaded: its runtime reports usage to Google",
            "report this as a bug",
        )
    return CheckResult(
        "offline",
        Status.OK,
        f"pose runs on LiteRT {version}, mediapipe is not loaded; no command opens a network "
        "socket (tests/test_offline.py checks it under strace)",
    )


@dataclass(frozen=True)
class Report:
    """Every check, in order, and whether coaching can run."""

    results: tuple[CheckResult, ...]

    @property
    def can_coach(self) -> bool:
        """No check failed (warnings are fine)."""
        return all(r.status is not Status.FAIL for r in self.results)

    def verdict(self, *, symbols: bool) -> str:
        """The closing line: whether coaching can run, else which lines to fix."""
        if self.can_coach:
            return "coach can run"
        failed = _SYMBOLS[Status.FAIL] if symbols else Status.FAIL.value
        return f"coach cannot run until the {failed} lines are fixed"


def run_checks(
    config: Config,
    *,
    source: str = "0",
    model: Path | None = None,
    db: Path | None = None,
    fallback_video: Path | None = None,
    env: Mapping[str, str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> Report:
    """Run every check (the network promise last: it looks at what the others loaded)."""
    environ = os.environ if env is None else env
    checks: list[Callable[[], CheckResult]] = [
        lambda: check_camera(source, config.source, fallback_video=fallback_video),
        lambda: check_model(model, config.pose),
        lambda: check_history(db),
        lambda: check_notifications(environ),
        check_sound,
        lambda: check_tray(environ),
        lambda: check_lock_signals(environ),
        check_autostart,
        check_network_promise,
    ]
    results = []
    for check in checks:
        result = check()
        results.append(result)
        if on_result is not None:
            on_result(result)
    return Report(tuple(results))
