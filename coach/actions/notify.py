"""Provides nudge delivery: desktop notifications and a soft chime, off the frame loop's thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from dbus_fast.errors import DBusError

from coach.actions.loop_thread import LoopThread
from coach.desktop.icon import icon_path
from coach.records import (
    Command,
    Condition,
    Frame,
    LiveStatus,
    PromptResolved,
    Reason,
    SetCompleted,
    Snapshot,
)

RECALIBRATE_TITLE = "Camera or seat moved?"
RECALIBRATE_MESSAGE = (
    "Your position changed since calibration. Sit tall and run `coach calibrate` "
    "so posture is measured against the right neutral."
)


CALIBRATED_TITLE = "Calibrated"
CALIBRATED_MESSAGE = "Your posture is now measured against how you sat just now."


# A prompt's notification answers it as the keys d, s and k do.
PROMPT_BUTTONS = (("Done", Command.DONE), ("Snooze", Command.SNOOZE), ("Skip", Command.SKIP))


@dataclass(frozen=True)
class NotifyButton:
    """A notification button: its label and what pressing it does (on the notifier's thread)."""

    label: str
    on_pressed: Callable[[], None]


class Notifier(Protocol):
    """Shows a notification (the real one, or a fake in tests)."""

    def notify(
        self,
        title: str,
        message: str,
        buttons: Sequence[NotifyButton] = (),
        tag: str | None = None,
    ) -> None:
        """Show one notification; `tag` names it for `withdraw`."""

    def withdraw(self, tag: str) -> None:
        """Take the notification named `tag` off the screen (nothing if it is gone)."""

    def close(self) -> None:
        """Let queued notifications go out."""


class NullNotifier:
    """Used where no notification service exists: notifications are quietly skipped."""

    def notify(
        self,
        title: str,
        message: str,
        buttons: Sequence[NotifyButton] = (),
        tag: str | None = None,
    ) -> None:
        """Do nothing."""

    def withdraw(self, tag: str) -> None:
        """Nothing was shown."""

    def close(self) -> None:
        """Nothing to flush."""


class _Worker:
    """Runs jobs on one background thread so the frame loop never waits on a desktop service."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def submit(self, job: Callable[[], None]) -> None:
        # When a burst of nudges is already queued, dropping one more is fine.
        with contextlib.suppress(queue.Full):
            self._jobs.put_nowait(job)

    def close(self) -> None:
        try:
            self._jobs.put_nowait(None)
        except queue.Full:
            return
        self._thread.join(timeout=2.0)


def notification_service_available() -> bool:
    """On Linux a session bus is needed; macOS and Windows always have a service."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))
    return True


class DesktopNotifier:
    """Desktop notifications through desktop-notifier; failures are swallowed, never raised.

    Its event loop runs on a thread of its own for the whole session: button presses
    arrive there as D-Bus signals, long after the notification went out.
    """

    def __init__(self) -> None:
        from desktop_notifier import Attachment, Icon
        from desktop_notifier import DesktopNotifier as Backend

        self._runner = LoopThread("coach-notify")
        icon = icon_path()
        # The coach's icon, not desktop-notifier's default (the Python logo): as app_icon,
        # and on Linux as the image-path hint too, which GNOME Shell shows in its place.
        self._icon = Icon(path=icon)
        self._image = Attachment(path=icon) if sys.platform.startswith("linux") else None
        self._backend = Backend(app_name="coach", app_icon=self._icon)
        self._pending: list[concurrent.futures.Future[None]] = []
        self._shown: dict[str, str] = {}
        """Tag → desktop-notifier's identifier (touched on the notifier's loop only)."""
        # One job at a time, in order: a withdrawal waits for its notification's sending.
        self._in_order = asyncio.Lock()
        self.failed = False

    def notify(
        self,
        title: str,
        message: str,
        buttons: Sequence[NotifyButton] = (),
        tag: str | None = None,
    ) -> None:
        """Queue one notification (with buttons where the desktop shows them)."""

        async def send() -> None:
            async with self._in_order:
                await self._send(title, message, buttons, tag)

        self._submit(send())

    async def _send(
        self, title: str, message: str, buttons: Sequence[NotifyButton], tag: str | None
    ) -> None:
        from desktop_notifier import Button

        try:
            identifier = await self._backend.send(
                title=title,
                message=message,
                icon=self._icon,
                attachment=self._image,
                buttons=[Button(title=b.label, on_pressed=b.on_pressed) for b in buttons],
            )
        except (OSError, RuntimeError, ValueError, TimeoutError, DBusError):
            # The desktop refused (no daemon, permissions): nudges still show on screen.
            self.failed = True
            return
        if tag is not None:
            self._shown[tag] = identifier

    def withdraw(self, tag: str) -> None:
        """Close the notification named `tag` (queued after its sending, on the same loop)."""

        async def clear() -> None:
            async with self._in_order:
                identifier = self._shown.pop(tag, None)
                if identifier is None:
                    return
                # Gone already (a button pressed, dismissed): desktop-notifier forgot it.
                with contextlib.suppress(KeyError, OSError, RuntimeError, TimeoutError, DBusError):
                    await self._backend.clear(identifier)

        self._submit(clear())

    def _submit(self, job: Coroutine[Any, Any, None]) -> None:
        self._pending = [f for f in self._pending if not f.done()]
        if len(self._pending) < 8:  # a burst already queued: dropping one more is fine
            self._pending.append(self._runner.submit(job))
        else:
            job.close()

    def close(self) -> None:
        """Let queued notifications go out, then stop the loop."""
        concurrent.futures.wait(self._pending, timeout=2.0)
        self._runner.stop()


def chime_waveform(sample_rate_hz: int = 44100, duration_s: float = 0.9) -> np.ndarray:
    """A soft two-note chime (E5 then A5) with gentle attack and decay, as float32 samples."""
    t = np.arange(int(sample_rate_hz * duration_s)) / sample_rate_hz
    wave = np.zeros_like(t)
    for start_s, freq_hz in ((0.0, 659.25), (0.18, 880.0)):
        local = np.clip(t - start_s, 0.0, None)
        envelope = np.where(t >= start_s, (1 - np.exp(-local / 0.01)) * np.exp(-local / 0.25), 0.0)
        wave += np.sin(2 * np.pi * freq_hz * local) * envelope
    peak = max(float(np.abs(wave).max()), 1e-9)
    samples: np.ndarray = (0.18 * wave / peak).astype(np.float32)
    return samples


class Chime:
    """Plays the chime through sounddevice; silent where no audio device or PortAudio exists."""

    def __init__(self) -> None:
        self._worker = _Worker("coach-chime")
        self._wave = chime_waveform()

    def play(self) -> None:
        """Queue the chime."""

        def play() -> None:
            try:
                import sounddevice

                sounddevice.play(self._wave, 44100, blocking=True)
            except (OSError, RuntimeError, ValueError, ImportError):
                pass  # no PortAudio or no output device: the notification is enough

        self._worker.submit(play)

    def close(self) -> None:
        """Stop the worker."""
        self._worker.close()


def prompt_tag(prompt_id: int) -> str:
    """The tag of prompt `prompt_id`'s notification."""
    return f"prompt-{prompt_id}"


def set_summary(done: SetCompleted) -> tuple[str, str]:
    """A finished set's notification: the count in the title, the coaching in the body."""
    noun = "rep" if done.reps == 1 else "reps"
    title = f"Set done: {done.movement}, {done.reps} {noun}"
    lines = []
    if done.per_side is not None:
        lines.append(", ".join(f"{side} {n}" for side, n in sorted(done.per_side.items())))
    lines.extend(done.feedback[:3])  # the notification is a glance; the report has the rest
    return title, "\n".join(lines) or "Well done."


class NudgeAnnouncer:
    """Sink that turns nudges (and a moved camera) into notifications and a chime."""

    def __init__(
        self,
        notifier: Notifier,
        chime: Chime | None,
        answer: Callable[[Command], None] | None = None,
        *,
        summaries: bool = False,
        posture_notifications: bool = True,
    ) -> None:
        """`answer` takes a prompt's button presses (the controls' queue); None: no buttons.
        `summaries`: also announce each finished set and a recorded neutral (the tray has
        no dashboard to show them). `posture_notifications`: False when the user chose other
        nudge styles (the glow) for slouching; movement prompts are notified all the same."""
        self._notifier = notifier
        self._posture_notifications = posture_notifications
        self._chime = chime
        self._answer = answer
        self._summaries = summaries
        self._recalibrate_sent = False
        self._camera_missing = False
        self._calibrating = False
        self._open_prompt_id: int | None = None
        self.sent: list[tuple[str, str]] = []

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Announce a nudge that fired at this snapshot; withdraw a prompt's notification
        once the prompt is answered (a key, the tray, a button, or no answer in time)."""
        open_prompt = snapshot.open_prompt
        self._open_prompt_id = None if open_prompt is None else open_prompt.prompt_id
        for event in snapshot.events:
            if isinstance(event, PromptResolved):
                self._notifier.withdraw(prompt_tag(event.prompt_id))
            elif isinstance(event, SetCompleted) and self._summaries:
                self._send(*set_summary(event))
        nudge = snapshot.nudge
        if nudge is not None and (self._posture_notifications or nudge.reason is Reason.STATIONARY):
            self._send(
                nudge.title,
                nudge.message,
                self._buttons(nudge.prompt_id),
                prompt_tag(nudge.prompt_id),
            )
        if nudge is not None and self._chime is not None:
            self._chime.play()
        if snapshot.recalibrate and not self._recalibrate_sent:
            self._send(RECALIBRATE_TITLE, RECALIBRATE_MESSAGE)
        self._recalibrate_sent = snapshot.recalibrate
        if self._calibrating and snapshot.calibrating is None and self._summaries:
            self._send(CALIBRATED_TITLE, CALIBRATED_MESSAGE)
        self._calibrating = snapshot.calibrating is not None

    def status(self, status: LiveStatus) -> None:
        """Say once that the camera is gone (the coach waits for it) and once that it is back;
        a lock, sleep or pause is the user's own doing and needs no word."""
        if status.condition is Condition.NO_CAMERA and not self._camera_missing:
            self._camera_missing = True
            self._send(
                "Camera unavailable",
                f"{status.detail[:1].upper()}{status.detail[1:]}. Coaching resumes when it is back.",
            )
        elif status.condition is Condition.COACHING and self._camera_missing:
            self._camera_missing = False
            self._send("Camera back", "Coaching again.")

    def _buttons(self, prompt_id: int) -> tuple[NotifyButton, ...]:
        answer = self._answer
        if answer is None:
            return ()

        def press(command: Command) -> Callable[[], None]:
            def pressed() -> None:
                # A button on an old notification must not answer a newer prompt.
                if self._open_prompt_id == prompt_id:
                    answer(command)

            return pressed

        return tuple(NotifyButton(label, press(command)) for label, command in PROMPT_BUTTONS)

    def _send(
        self,
        title: str,
        message: str,
        buttons: tuple[NotifyButton, ...] = (),
        tag: str | None = None,
    ) -> None:
        self.sent.append((title, message))
        self._notifier.notify(title, message, buttons, tag)

    def close(self) -> None:
        """Flush and stop the background workers."""
        self._notifier.close()
        if self._chime is not None:
            self._chime.close()
