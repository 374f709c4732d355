"""Tests the glow nudge's level over a real slouch, and the nudge style settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from coach.actions.glow import GlowNudge, glow_level, open_glow
from coach.analyzer import Analyzer
from coach.config import Config, NudgeConfig, NudgeStyle, from_mapping
from coach.errors import ConfigError
from coach.movements import load_library
from coach.records import Condition, LiveStatus, PostureState, Snapshot
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample

FPS = 10.0
SLOUCHED = BodyPose(rounding=0.8, forward_head_m=0.04, pitch_deg=8.0)


class Recorded:
    """The levels the sink sent, with the stream time of each."""

    def __init__(self) -> None:
        self.levels: list[tuple[float, float]] = []
        self.t_s = 0.0
        self.closed = False

    def show(self, level: float) -> None:
        self.levels.append((self.t_s, level))

    def close(self) -> None:
        self.closed = True


def sit(parts: list[tuple[BodyPose, float]], nudge: NudgeConfig) -> tuple[list[Snapshot], Recorded]:
    """Replay a scripted sitting through the real analyzer into the glow sink."""
    config = dataclasses.replace(Config(), nudge=nudge)
    analyzer = Analyzer(config, load_library(), calibrate_s=3.0)
    out = Recorded()
    sink = GlowNudge(config.nudge, config.slouch, out)
    rng = np.random.default_rng(0)
    snapshots, t_s = [], 0.0
    for body, seconds in parts:
        for _ in range(round(seconds * FPS)):
            out.t_s = t_s
            pose = synthetic_pose(body, Camera(), noise_px=0.5, rng=rng)
            snapshots.append(analyzer.update(synthetic_sample(pose, t_s)))
            sink.update(snapshots[-1], None)
            t_s += 1.0 / FPS
    sink.close()
    return snapshots, out


def test_the_glow_deepens_while_a_slouch_lasts_and_clears_within_a_second_of_sitting_up() -> None:
    nudge = NudgeConfig(hold_s=20.0, style=(NudgeStyle.GLOW,), glow_strength=0.8)
    snapshots, out = sit([(BodyPose(), 8.0), (SLOUCHED, 50.0), (BodyPose(), 5.0)], nudge)
    slouched = [s for s in snapshots if s.state is PostureState.SLOUCHED]
    assert slouched, "the scripted slouch was never decided"
    start_s = slouched[0].t_s
    upright_again_s = 58.0
    rising = [level for t_s, level in out.levels if t_s < upright_again_s and level > 0]
    assert rising[0] < 0.2 * 0.8 + 0.03, "a faint glow first"
    assert rising == sorted(rising), "it only deepens while the slouch lasts"
    at_hold = [lv for t, lv in out.levels if start_s + 19.0 <= t <= start_s + 21.0]
    assert at_hold and abs(at_hold[-1] - 0.75 * 0.8) < 0.05, "three quarters of it at the nudge"
    assert abs(rising[-1] - 0.8) < 1e-6, "the strength is its ceiling, reached a hold later"
    cleared = [t for t, level in out.levels if t >= upright_again_s and level == 0.0]
    assert cleared and cleared[0] - upright_again_s <= 1.0 + 1e-6
    assert out.closed and out.levels[-1][1] == 0.0


def test_no_glow_while_paused_or_upright_and_a_nudge_without_glow_draws_nothing(
    tmp_path: Path,
) -> None:
    nudge = NudgeConfig(hold_s=10.0, style=(NudgeStyle.GLOW,))
    snapshots, _ = sit([(BodyPose(), 8.0), (SLOUCHED, 12.0)], nudge)
    deep = snapshots[-1]
    assert glow_level(deep, nudge, Config().slouch) > 0.3
    paused = dataclasses.replace(deep, paused_until_s=deep.t_s + 60.0)
    assert glow_level(paused, nudge, Config().slouch) == 0.0
    # The camera goes (or the screen locks): no snapshot comes, the glow goes all the same.
    out = Recorded()
    sink = GlowNudge(nudge, Config().slouch, out)
    sink.update(deep, None)
    sink.status(LiveStatus(Condition.NO_CAMERA, "camera 0 is busy"))
    assert [level for _, level in out.levels] == [pytest.approx(sink_level(deep, nudge)), 0.0]
    upright, _ = sit([(BodyPose(), 20.0)], nudge)
    assert all(glow_level(s, nudge, Config().slouch) == 0.0 for s in upright)
    notes: list[str] = []
    plain = NudgeConfig(style=(NudgeStyle.NOTIFICATION, NudgeStyle.CHIME))
    assert open_glow(plain, Config().slouch, notes.append, env={"DISPLAY": ":0"}) is None
    assert notes == []
    assert open_glow(nudge, Config().slouch, notes.append, env={}) is None
    assert notes == ["The glow nudge is unavailable: no display (DISPLAY is not set)."]


def sink_level(snapshot: Snapshot, nudge: NudgeConfig) -> float:
    return glow_level(snapshot, nudge, Config().slouch)


def test_style_and_strength_are_checked_like_every_setting() -> None:
    config = from_mapping(Config, {"nudge": {"style": ["glow", "chime"], "glow_strength": 1}}, "f")
    assert config.nudge.style == (NudgeStyle.GLOW, NudgeStyle.CHIME)
    assert from_mapping(Config, {"nudge": {"style": "glow"}}, "f").nudge.style == (NudgeStyle.GLOW,)
    with pytest.raises(
        ConfigError, match='\'blink\' is not one of "notification", "glow", "chime"'
    ):
        from_mapping(Config, {"nudge": {"style": ["blink"]}}, "f")
    with pytest.raises(ConfigError, match="glow_strength: must be at most 1"):
        from_mapping(Config, {"nudge": {"glow_strength": 1.5}}, "f")


class Notes:
    """A notifier that keeps what it was asked to show."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def notify(self, title: str, message: str, buttons: object = (), tag: object = None) -> None:
        self.shown.append(title)

    def withdraw(self, tag: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_without_the_notification_style_a_slouch_is_not_notified_but_a_movement_prompt_is() -> None:
    from coach.actions.notify import NudgeAnnouncer
    from coach.records import Nudge, Reason
    from tests.kill_writer import fake_snapshot

    styles = ((NudgeStyle.NOTIFICATION, NudgeStyle.GLOW), (NudgeStyle.GLOW,))
    for style, expected in zip(styles, (["Sit tall", "Move"], ["Move"]), strict=True):
        notes = Notes()
        announcer = NudgeAnnouncer(notes, None, style=style)
        for t_s, reason, title in (
            (1.0, Reason.THORACIC_ROUNDING, "Sit tall"),
            (2.0, Reason.STATIONARY, "Move"),
        ):
            nudge = Nudge(t_s, reason, "chin-tuck", title, "...", prompt_id=int(t_s))
            announcer.update(fake_snapshot(t_s, "slouched", events=(nudge,)), None)
        assert notes.shown == expected
