"""A prompt's notification carries Done / Snooze / Skip, and a press answers it as a key does.

A real `coach run` on the slouch clip (at its own speed, real pose model) sends its nudge to
a notification server of the test's own on a private D-Bus session bus.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import signal
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from coach.actions.controls import Controls
from coach.actions.event_log import read_event_log
from coach.actions.notify import DesktopNotifier, NotifyButton, NudgeAnnouncer
from coach.analyzer import Analyzer
from coach.config import Config, PromptConfig, StationaryConfig
from coach.desktop.icon import icon_path
from coach.live_stage import LiveStage
from coach.movements import load_library
from coach.records import Command, Nudge, Outcome, PromptResolved, Snapshot
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.conftest import sample_clip
from tests.dbus_session import DesktopServices, private_bus
from tests.kill_writer import fake_snapshot
from tests.mjpeg_camera import start_coach, wait_for

FPS = 15.0


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
            # A posture nudge: "I'm sitting fine" in place of Skip ("default": a click).
            assert sorted(buttons.values()) == ["Done", "I'm sitting fine", "Snooze"]
            assert _outcomes(events) == []
            fine = next(key for key, label in buttons.items() if label == "I'm sitting fine")
            services.invoke(note.id, fine)
            wait_for(lambda: _outcomes(events), 20, "the prompt's outcome")
            assert _outcomes(events) == ["skipped"]
            widened = [
                e
                for line in read_event_log(events)
                for e in line["events"]
                if e["type"] == "band_widened"
            ]
            assert widened, "the answer widened the upright band of the cue that fired"
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
    assert [b.label for b in buttons] == ["Done", "Snooze", "Skip"]  # a stillness prompt
    buttons[0].on_pressed()
    assert answered == [Command.DONE]
    announcer.update(_prompted(2), None)
    buttons[2].on_pressed()  # "Skip" on the first prompt's notification
    assert answered == [Command.DONE]
    notifier.sent[1][1][2].on_pressed()
    assert answered == [Command.DONE, Command.SKIP]


# desktop-notifier has no close: its bus connection goes with the notifier, collected in the
# test (so the warning about its socket stays this test's).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_answered_prompt_has_its_notification_withdrawn_and_each_carries_the_coach_icon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dataclasses.replace(
        Config(),
        stationary=StationaryConfig(still_minutes=0.25),
        prompts=PromptConfig(cooldown_s=10.0, respond_s=20.0, snooze_s=5.0),
    )
    controls = Controls(pause_s=1800.0)
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        services = DesktopServices(address, watcher=False)
        server = services.notifications
        held = [NudgeAnnouncer(DesktopNotifier(), chime=None, answer=controls.push)]
        analyzer = Analyzer(config, load_library(), calibrate_s=3.0)
        stage = LiveStage(analyzer, lambda: analyzer, lambda _a, _s: None)
        rng = np.random.default_rng(0)
        t_s = 0.0

        def sit(seconds: float) -> list[Snapshot]:
            nonlocal t_s
            out = []
            for _ in range(int(seconds * FPS)):
                for command in controls.drain():
                    stage.command(command)
                pose = synthetic_pose(BodyPose(), Camera(), noise_px=0.5, rng=rng)
                out.append(stage.update(synthetic_sample(pose, t_s)))
                held[0].update(out[-1], None)
                t_s += 1.0 / FPS
            return out

        try:
            sit(20.0)
            wait_for(lambda: server.received, 10, "the prompt's notification")
            first = server.received[0]
            buttons = [label for key, label in first.actions.items() if key != "default"]
            assert sorted(buttons) == ["Done", "Skip", "Snooze"]
            assert server.closed == []
            controls.key("s")  # snoozed at the keyboard: the notification goes
            snoozed = sit(1.0)
            assert any(isinstance(e, PromptResolved) for e in snoozed[0].events)
            wait_for(lambda: server.closed == [first.id], 10, "the notification withdrawn")
            # The next prompt nobody answers: withdrawn when it times out (ignored).
            later = sit(60.0)
            outcomes = [e.outcome for s in later for e in s.events if isinstance(e, PromptResolved)]
            assert Outcome.IGNORED in outcomes, outcomes
            assert len(server.received) >= 2
            second = server.received[1]
            wait_for(lambda: second.id in server.closed, 10, "the ignored prompt's withdrawal")
            icon = icon_path().as_uri()
            assert all(n.app_icon == icon and n.image_path == icon for n in server.received)
        finally:
            held.pop().close()
            services.close()
            gc.collect()


def test_the_nudge_style_gates_posture_nudges_but_a_movement_prompt_is_always_shown() -> None:
    from coach.config import NudgeConfig, NudgeStyle

    notifier = _Recorder()
    announcer = NudgeAnnouncer(notifier, chime=None, style=(NudgeStyle.GLOW,))
    posture = Nudge(1.0, "forward_head", "chin-tucks", "Sit tall", "Head back", 1)
    announcer.update(fake_snapshot(1.0, events=(posture,)), None)
    assert notifier.sent == []  # a glow alone: no notification for a slouch
    announcer.update(_prompted(2), None)
    assert [title for title, _ in notifier.sent] == ["Time to move"]
    announcer.reconfigure(NudgeConfig(style=(NudgeStyle.NOTIFICATION, NudgeStyle.GLOW)))
    announcer.update(fake_snapshot(3.0, events=(dataclasses.replace(posture, t_s=3.0),)), None)
    assert [title for title, _ in notifier.sent] == ["Time to move", "Sit tall"]
