"""Tests for issue 21's posture side: slumps out of the frame, any sample rate, sensitivity levels,
and learning from "I'm sitting fine" (bounded, kept in the profile, undone by calibrating)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coach.actions.controls import KEYMAP
from coach.analyzer import Analyzer
from coach.calibration import load_profile, new_profile, save_profile, with_widened
from coach.config import Config, SlouchConfig
from coach.config.loader import from_mapping
from coach.decisions.sensitivity import advise
from coach.decisions.slouch import SlouchDetector
from coach.errors import ConfigError
from coach.features.posture import measure_cues
from coach.movements import load_library
from coach.records import (
    BandWidened,
    Command,
    Condition,
    Interruption,
    Nudge,
    PostureState,
    SlouchCue,
    Snapshot,
)
from testkit.synthetic import (
    LAPTOP_CAMERA,
    BodyPose,
    Camera,
    slump,
    synthetic_pose,
    synthetic_sample,
)


def run(
    analyzer: Analyzer,
    segments: list[tuple[BodyPose, float]],
    fps: float,
    camera: Camera | None = None,
    start_s: float = 0.0,
) -> list[Snapshot]:
    """Feed (body, seconds) segments at `fps`, with landmark jitter; returns every snapshot."""
    rng = np.random.default_rng(7)
    snaps, t_s = [], start_s
    for body, seconds in segments:
        for _ in range(round(seconds * fps)):
            pose = synthetic_pose(body, camera or Camera(), noise_px=0.6, rng=rng)
            snaps.append(analyzer.update(synthetic_sample(pose, t_s)))
            t_s += 1.0 / fps
    return snaps


def analyzer(config: Config | None = None, **kwargs) -> Analyzer:
    return Analyzer(config or Config(), load_library(), calibrate_s=5.0, **kwargs)


def test_a_slump_that_takes_the_shoulders_out_of_the_frame_is_a_slouch() -> None:
    coach = analyzer()
    snaps = run(coach, [(BodyPose(), 10.0), (slump(0.8), 20.0)], fps=5.0, camera=LAPTOP_CAMERA)
    late = snaps[-50:]
    assert all(s.state is PostureState.SLOUCHED for s in late), {s.state for s in late}
    assert late[-1].slouch.why is SlouchCue.OUT_OF_FRAME
    # Sitting tall again, the shoulders back in view, it is over.
    snaps = run(coach, [(BodyPose(), 10.0)], fps=5.0, camera=LAPTOP_CAMERA, start_s=30.0)
    assert snaps[-1].state is PostureState.UPRIGHT


def test_shoulders_out_of_the_frame_with_the_head_at_its_height_stay_unknown() -> None:
    config = SlouchConfig()
    for sunk, expected in ((2.0, PostureState.UNKNOWN), (25.0, PostureState.SLOUCHED)):
        detector = SlouchDetector(config, away_after_s=3.0)
        for i in range(50):
            status = detector.update(None, True, i * 0.2, slump=sunk)
        assert status.state is expected
        assert status.why is (SlouchCue.OUT_OF_FRAME if sunk > 10 else None)


def test_a_trunk_slumped_to_one_side_with_the_head_low_is_a_slouch() -> None:
    coach = analyzer()
    side = BodyPose(lean_deg=14.0, shift_m=(0.0, 0.01, 0.0))
    snaps = run(coach, [(BodyPose(), 10.0), (side, 20.0)], fps=5.0)
    metrics = snaps[-1].metrics
    config = SlouchConfig()
    assert metrics is not None and metrics.thoracic_rounding < config.rounding_enter
    assert metrics.score < config.score_enter and metrics.forward_head < config.forward_head_enter
    assert snaps[-1].state is PostureState.SLOUCHED and snaps[-1].slouch.why is SlouchCue.SIDE_LEAN
    # Leaning alone (head at its height) stays upright: reaching for something is not a slump.
    coach = analyzer()
    lean = BodyPose(lean_deg=16.0, shift_m=(0.0, -0.02, 0.0))
    snaps = run(coach, [(BodyPose(), 10.0), (lean, 20.0)], fps=5.0)
    assert all(s.state is not PostureState.SLOUCHED for s in snaps)


@pytest.mark.parametrize("fps", [1.0, 2.0, 5.0, 10.0])
def test_calibration_and_decisions_work_at_any_rate_from_one_a_second(fps: float) -> None:
    coach = analyzer()
    forward = BodyPose(forward_head_m=0.06, rounding=0.3)
    snaps = run(coach, [(BodyPose(), 15.0), (forward, 20.0), (BodyPose(), 15.0)], fps=fps)
    calibrated_at = next(s.t_s for s in snaps if s.calibrating is None)
    assert calibrated_at <= 6.0
    during = [s for s in snaps if 25.0 <= s.t_s < 35.0]
    after = [s for s in snaps if s.t_s >= 45.0]
    assert during and all(s.state is PostureState.SLOUCHED for s in during)
    assert after and all(s.state is PostureState.UPRIGHT for s in after)
    entered = next(s.t_s for s in snaps if s.state is PostureState.SLOUCHED)
    assert 15.0 + 2.0 <= entered <= 15.0 + 2.0 + 1.5 / fps + 1.6


def test_sensitivity_is_five_levels_checked_when_loaded() -> None:
    assert from_mapping(Config, {"slouch": {"sensitivity": 5}}, "t").slouch.sensitivity == 5
    for bad in (0, 6):
        with pytest.raises(ConfigError, match="sensitivity"):
            from_mapping(Config, {"slouch": {"sensitivity": bad}}, "t")
    with pytest.raises(ConfigError, match="whole number"):
        from_mapping(Config, {"slouch": {"sensitivity": 2.5}}, "t")


def test_a_higher_level_catches_a_smaller_slouch() -> None:
    caught = {}
    for drop_m in (0.035, 0.055):
        for level in (1, 3, 5):
            config = Config(slouch=SlouchConfig(sensitivity=level))
            sunk = BodyPose(shift_m=(0.0, drop_m, 0.0))
            snaps = run(analyzer(config), [(BodyPose(), 10.0), (sunk, 20.0)], fps=5.0)
            caught[(drop_m, level)] = snaps[-1].state is PostureState.SLOUCHED
    assert caught == {
        (0.035, 1): False,
        (0.035, 3): False,
        (0.035, 5): True,
        (0.055, 1): False,
        (0.055, 3): True,
        (0.055, 5): True,
    }


def test_calibrate_says_how_far_the_cues_moved_and_which_level_suits() -> None:
    rng = np.random.default_rng(3)
    steady = [
        measure_cues(synthetic_pose(BodyPose(), Camera(), noise_px=0.3, rng=rng)) for _ in range(25)
    ]
    shaky = [
        measure_cues(synthetic_pose(BodyPose(), Camera(), noise_px=15.0, rng=rng))
        for _ in range(25)
    ]
    from coach.features.posture import median_cues, spread_cues

    levels = []
    for window in (steady, shaky):
        cues = [c for c in window if c is not None]
        neutral = median_cues(cues)
        advice = advise(neutral, spread_cues(cues, neutral), SlouchConfig())
        lines = advice.lines(3)
        assert 1 <= len(lines) <= 2 and "head height" in lines[0]
        levels.append(advice.level)
    assert levels[0] > levels[1]


def _nudged_run(
    coach: Analyzer, drifted: BodyPose, start_s: float, seconds: float
) -> list[Snapshot]:
    return run(coach, [(drifted, seconds)], fps=2.0, start_s=start_s)


def test_sitting_fine_widens_the_band_of_the_cue_that_fired_bounded() -> None:
    config = Config()
    coach = analyzer(config)
    # This person's upright drifts: the head a little lower than at calibration.
    drifted = BodyPose(shift_m=(0.0, 0.055, 0.0))
    snaps = run(coach, [(BodyPose(), 10.0)], fps=2.0)
    snaps = _nudged_run(coach, drifted, 10.0, 60.0)
    nudges = [e for s in snaps for e in s.events if isinstance(e, Nudge)]
    assert nudges, "the drifted posture must be nudged for the test to mean anything"
    coach.command(Command.SITTING_FINE)
    snaps = _nudged_run(coach, drifted, 70.0, 120.0)
    widened = [e for s in snaps[:1] for e in s.events if isinstance(e, BandWidened)]
    assert widened and nudges[-1].reason in {e.reason for e in widened}
    for event in widened:
        assert 1.0 < event.factor <= 1.0 + config.slouch.widen_max
    assert coach.widened == {e.cue: e.factor for e in widened}
    assert all(s.state is PostureState.UPRIGHT for s in snaps[4:]), "the drift is fine now"
    # Bounded: answering again and again never widens past the cap, and a slump is still caught.
    for _ in range(10):
        coach.command(Command.SITTING_FINE)
        coach.update(synthetic_sample(synthetic_pose(drifted, Camera()), 200.0))
    assert max(coach.widened.values()) <= 1.0 + config.slouch.widen_max
    snaps = run(coach, [(BodyPose(forward_head_m=0.1, rounding=0.7), 20.0)], fps=2.0, start_s=201.0)
    assert snaps[-1].state is PostureState.SLOUCHED


def test_sitting_fine_recentres_a_drift_past_any_widening_and_a_slump_is_still_caught() -> None:
    config = Config()
    coach = analyzer(config)
    # This person sits upright but lower in the chair than at calibration (the whole body
    # about a third of a shoulder width down): past what widening alone may absorb.
    drifted = BodyPose(shift_m=(0.0, 0.12, 0.0))
    run(coach, [(BodyPose(), 10.0)], fps=2.0)
    snaps = _nudged_run(coach, drifted, 10.0, 60.0)
    assert [e for s in snaps for e in s.events if isinstance(e, Nudge)], "must be nudged first"
    coach.command(Command.SITTING_FINE)
    snaps = _nudged_run(coach, drifted, 70.0, 120.0)
    assert all(s.state is PostureState.UPRIGHT for s in snaps[4:]), "one answer re-centres it"
    # Nothing is pending about a posture the user vouched for: the analysis rests again.
    assert coach.look_plan.quiet and coach.look_plan.fps == config.loop.idle_fps
    assert max(coach.widened.values()) <= 1.0 + config.slouch.widen_max
    # A real slump from there (the head also forward and down toward the shoulders) is caught.
    slumped = BodyPose(forward_head_m=0.1, rounding=0.7, shift_m=(0.0, 0.12, 0.0))
    snaps = run(coach, [(slumped, 20.0)], fps=2.0, start_s=210.0)
    assert snaps[-1].state is PostureState.SLOUCHED


def test_sitting_fine_without_a_posture_nudge_changes_nothing() -> None:
    coach = analyzer()
    run(coach, [(BodyPose(), 10.0)], fps=2.0)
    coach.command(Command.SITTING_FINE)
    snaps = run(coach, [(BodyPose(), 2.0)], fps=2.0, start_s=10.0)
    assert not [e for s in snaps for e in s.events if isinstance(e, BandWidened)]
    assert coach.widened == {}


def test_the_widening_is_kept_in_the_profile_and_old_profiles_still_load(tmp_path: Path) -> None:
    cues = measure_cues(synthetic_pose(BodyPose(), Camera()))
    assert cues is not None
    profile = with_widened(new_profile("desk", cues, (640, 480)), {SlouchCue.ROUNDING: 1.3})
    path = save_profile(profile, tmp_path / "desk.json")
    loaded = load_profile(path)
    assert loaded.widened == {SlouchCue.ROUNDING: pytest.approx(1.3)}
    # A profile from before the field: nothing widened.
    data = json.loads(path.read_text())
    del data["widened"]
    path.write_text(json.dumps(data))
    assert load_profile(path).widened == {}
    # The analyzer starts from the profile's widening; a new calibration starts without it.
    coach = Analyzer(Config(), load_library(), neutral=cues, widened=loaded.widened)
    assert coach.widened == {SlouchCue.ROUNDING: pytest.approx(1.3)}
    assert analyzer().widened == {}


def test_sitting_fine_is_the_f_key() -> None:
    assert KEYMAP["f"] is Command.SITTING_FINE


def test_what_sitting_fine_taught_outlives_a_screen_lock_and_a_settings_change() -> None:
    config = Config()
    coach = analyzer(config)
    drifted = BodyPose(shift_m=(0.0, 0.12, 0.0))  # upright, lower in the chair than calibrated
    run(coach, [(BodyPose(), 10.0)], fps=2.0)
    _nudged_run(coach, drifted, 10.0, 60.0)
    coach.command(Command.SITTING_FINE)
    snaps = _nudged_run(coach, drifted, 70.0, 60.0)
    assert all(s.state is PostureState.UPRIGHT for s in snaps[4:])
    taught = coach.widened
    assert taught
    # Lunch: the screen locked for an hour; then the sensitivity changed from the tray.
    coach.interrupted(Interruption(130.0, 3730.0, Condition.LOCKED))
    snaps = _nudged_run(coach, drifted, 3730.0, 60.0)
    coach.reconfigure(replace(config, slouch=replace(config.slouch, sensitivity=4)))
    snaps += _nudged_run(coach, drifted, 3790.0, 60.0)
    assert not [e for s in snaps for e in s.events if isinstance(e, Nudge)]
    assert all(s.state is not PostureState.SLOUCHED for s in snaps)
    assert coach.widened == taught
