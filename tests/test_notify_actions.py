"""A prompt's notification carries Done / Snooze / Skip, and a press answers it as a key does.

A real `coach run` on the slouch clip (at its own speed, real pose model) sends its nudge to
a notification server of the test's own on a private D-Bus session bus.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
from pathlib import Path

import pytest

from coach.actions.notify import NotifyButton, NudgeAnnouncer
from coach.records import Command, Nudge
from tests.conftest import sample_clip
from tests.dbus_session import DesktopServices, private_bus
from tests.kill_writer import fake_snapshot
from tests.mjpeg_camera import start_coach, wait_for


def _outcomes(events: Path) -> list[str]:
    if not events.exists():
        return []
    found = []
    for line in events.read_text().splitlines():
        for event in json.loads(line).get("events", []):
            if event.get("type") == "outcome":
                found.append(event["outcome"])
    return found


@pytest.mark.slow
def test_a_prompt_notification_has_buttons_and_skip_resolves_the_prompt(tmp_path: Path) -> None:
    # About 30 s: the clip slouches 15 s in, and the nudge waits for a 4 s hold.
    config = tmp_path / "coach.toml"
    config.write_text("[nudge]\nhold_s = 4.0\n\n[prompts]\nrespond_s = 600.0\n")
    db, events = tmp_path / "coach.sqlite3", tmp_path / "events.jsonl"
    with private_bus(tmp_path) as address:
        services = DesktopServices(address, watcher=False)
        received = services.notifications.received
        proc = start_coach(
            tmp_path,
            *("run", str(sample_clip("slouch")), "--realtime", "--no-window"),
            *("--calibrate-seconds", "5", "--config", str(config)),
            *("--db", str(db), "--events", str(events)),
            env={"DBUS_SESSION_BUS_ADDRESS": address},
        )
        try:
            wait_for(lambda: received or proc.poll() is not None, 120, "the nudge's notification")
            assert received, (tmp_path / "stderr.txt").read_text()
            note = received[0]
            assert note.app_name == "coach"
            assert note.title.startswith("Posture check: try ")
            movement = note.title.removeprefix("Posture check: try ")
            assert movement in note.body.lower()  # the nudge names the movement, and how
            buttons = {key: label for key, label in note.actions.items() if key != "default"}
            assert sorted(buttons.values()) == ["Done", "Skip", "Snooze"]  # "default": a click
            assert _outcomes(events) == []
            skip = next(key for key, label in buttons.items() if label == "Skip")
            services.invoke(note.id, skip)
            wait_for(lambda: _outcomes(events), 20, "the prompt's outcome")
            assert _outcomes(events) == ["skipped"]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0, (tmp_path / "stderr.txt").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            services.close()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT reason, movement, outcome FROM prompts").fetchall()
    assert len(rows) == 1
    assert rows[0][2] == "skipped"


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[NotifyButton, ...]]] = []

    def notify(self, title: str, message: str, buttons=(), tag=None) -> None:
        self.sent.append((title, tuple(buttons)))

    def withdraw(self, tag: str) -> None:
        pass

    def close(self) -> None:
        pass


def _prompted(prompt_id: int):
    """A snapshot at which prompt `prompt_id` fires (and is the open one)."""
    nudge = Nudge(
        float(prompt_id), "stationary", "calf-raises", "Time to move", "Stand up", prompt_id
    )
    return dataclasses.replace(fake_snapshot(float(prompt_id), events=(nudge,)), open_prompt=nudge)


def test_a_button_on_an_old_notification_does_not_answer_a_newer_prompt() -> None:
    answered: list[Command] = []
    notifier = _Recorder()
    announcer = NudgeAnnouncer(notifier, chime=None, answer=answered.append)
    first = _prompted(1)
    announcer.update(first, None)
    (_, buttons) = notifier.sent[0]
    assert [b.label for b in buttons] == ["Done", "Snooze", "Skip"]
    buttons[0].on_pressed()
    assert answered == [Command.DONE]
    announcer.update(_prompted(2), None)
    buttons[2].on_pressed()  # "Skip" on the first prompt's notification
    assert answered == [Command.DONE]
    notifier.sent[1][1][2].on_pressed()
    assert answered == [Command.DONE, Command.SKIP]
