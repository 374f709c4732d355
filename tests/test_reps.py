"""Tests for rep counting (cat-cow, lateral flexion), form coaching, set recognition and the count view."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from coach.actions.count_view import render_count, summary_table
from coach.config import RepConfig
from coach.decisions.reps import RepCounter
from coach.decisions.set_recognition import SetRecognizer
from coach.errors import ConfigError
from coach.features.posture import measure_cues, median_cues
from coach.features.rep_signals import (
    ELBOWS,
    cat_cow_signal,
    hand_height,
    lateral_signal,
    trunk_signal,
    view_context,
)
from coach.records import CountableMovement, Pose, RepDetail, SetCompleted
from coach.statuses import CounterStatus
from testkit.exercises import (
    BODIES,
    CAMERA_DISTANCES_M,
    CAMERA_HEIGHTS_M,
    EXERCISES,
    NEGATIVES,
    RANGES,
    TEMPI_S,
    Case,
)
from testkit.rep_cases import count_case, covering_cases
from testkit.synthetic import BodyPose, Camera, synthetic_pose
from tests.conftest import MODEL, sample_clip
from tests.rep_streams import count_both, ease, pose_stream

CAT_COW, LATERAL_FLEXION = CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION
REPO = Path(__file__).resolve().parent.parent


def _load_benchmark():
    # The synthetic set generator lives with the evaluation script, so tests and the
    # benchmark exercise the very same sets.
    name = "evaluate_reps_for_tests"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "evaluate_reps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ev = _load_benchmark()
CONFIG = RepConfig()
VIEWS = {"front": 0.0, "oblique": 45.0, "side": 90.0}


def run(counter: RepCounter, stream) -> list[RepDetail]:
    reps = []
    for t, pose in ev.iter_frames(stream):
        rep = counter.update(pose, t)
        if rep is not None:
            reps.append(rep)
    return reps


# --- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("view", "yaw"), list(VIEWS.items()))
def test_signals_are_signed_the_same_way_in_every_view(view: str, yaw: float) -> None:
    camera = Camera(yaw_deg=yaw)
    neutral = synthetic_pose(BodyPose(), camera)
    context = view_context(neutral, CONFIG.min_visibility)
    assert context.view == view

    def cc(body: BodyPose) -> float:
        value = cat_cow_signal(synthetic_pose(body, camera), context)
        assert value is not None
        return value

    cow = BodyPose(extension=0.9, pitch_deg=-20.0)
    cat = BodyPose(rounding=0.8, pitch_deg=25.0)
    assert cc(cow) > cc(BodyPose()) + 0.1 > cc(cat) + 0.2
    trunk = [trunk_signal(synthetic_pose(b, camera), context) for b in (cow, BodyPose(), cat)]
    assert trunk[0] is not None and trunk[1] is not None and trunk[2] is not None
    assert trunk[0] > trunk[1] > trunk[2]
    # A nod moves the head only: the trunk signal does not see it.
    nod = trunk_signal(synthetic_pose(BodyPose(pitch_deg=20.0), camera), context)
    assert nod == pytest.approx(trunk[1], abs=1e-3)
    rest = lateral_signal(neutral, context)
    left = lateral_signal(synthetic_pose(BodyPose(lean_deg=15.0), camera), context) - rest
    right = lateral_signal(synthetic_pose(BodyPose(lean_deg=-15.0), camera), context) - rest
    assert left > 8.0 and right < -8.0  # + is the person's own left


# --- counting --------------------------------------------------------------------------------

SETS = [
    (CAT_COW, 2.0, "full", "front", 0.0),
    (CAT_COW, 1.0, "medium", "oblique", 1.0),
    (CAT_COW, 4.0, "small", "side", 1.0),
    (CAT_COW, 3.0, "full", "side", 2.0),
    (LATERAL_FLEXION, 2.0, "full", "front", 1.0),
    (LATERAL_FLEXION, 1.0, "medium", "oblique", 2.0),
    (LATERAL_FLEXION, 4.0, "small", "side", 0.0),
    (LATERAL_FLEXION, 3.0, "medium", "front", 1.0),
]


@pytest.mark.parametrize(("movement", "tempo_s", "range_name", "view", "noise_px"), SETS)
def test_counts_exactly_across_tempi_ranges_and_views(
    movement: str, tempo_s: float, range_name: str, view: str, noise_px: float
) -> None:
    spec = ev.SetSpec(movement, tempo_s, range_name, noise_px, "none", view, seed=7)
    stream = ev.synthetic_set(spec)
    counter = RepCounter(movement, CONFIG)
    reps = run(counter, stream)
    assert counter.reps == stream.truth.reps == len(reps)
    if movement == LATERAL_FLEXION:
        assert counter.per_side == {"left": stream.truth.left, "right": stream.truth.right}
    # Phase durations follow the tempo (about one tempo per phase).
    judged = [rep.phase_s[0] for rep in reps]
    assert 0.5 * tempo_s < float(np.median(judged)) < 1.6 * tempo_s


def test_counts_through_dropouts_and_a_one_second_occlusion() -> None:
    for dropout in ("random10", "occlusion1s"):
        spec = ev.SetSpec(CAT_COW, 2.0, "medium", 1.0, dropout, "front", seed=11)
        stream = ev.synthetic_set(spec)
        counter = RepCounter(CAT_COW, CONFIG)
        run(counter, stream)
        assert counter.reps == stream.truth.reps


def test_a_small_but_real_rep_is_counted_and_noted_as_partial() -> None:
    stream = ev.scripted_set(CAT_COW, [1.0, 1.0, 1.0, 0.45, 1.0])
    counter = RepCounter(CAT_COW, CONFIG)
    reps = run(counter, stream)
    assert [rep.partial for rep in reps] == [False, False, False, True, False]
    assert reps[3].range < 0.6
    assert any("partial" in text for text in counter.feedback)
    summary = counter.finish(float(stream.t_s[-1])).feedback
    assert any("1 of 5 reps were partial" in text for text in summary)


def test_lateral_flexion_counts_each_side_and_advises_balance() -> None:
    stream = ev.scripted_set(LATERAL_FLEXION, [1.0, 1.0, 1.0, 1.0, -1.0, -1.0])
    counter = RepCounter(LATERAL_FLEXION, CONFIG, target_reps=4)
    reps = run(counter, stream)
    assert [rep.side for rep in reps] == ["left"] * 4 + ["right"] * 2
    done = counter.finish(float(stream.t_s[-1]))
    assert done.per_side == {"left": 4, "right": 2}
    assert "Left 4, right 2: add two to the right." in done.feedback
    assert "2 of 4 done." in done.feedback


def test_counting_pauses_without_trustworthy_landmarks_and_keeps_the_count() -> None:
    # Two reps, a rest (the zero-amplitude "reps"), two more reps.
    stream = ev.scripted_set(CAT_COW, [1.0, 1.0, 0.0, 0.0, 1.0, 1.0], tempo_s=2.0)
    poses: list[Pose | None] = list(stream.poses)
    # During the rest: hide the head and shoulders (a hand, a mug), then lose the person.
    for i, t in enumerate(stream.t_s):
        pose = poses[i]
        if 12.5 <= t < 15.0 and pose is not None:
            hidden = np.full_like(pose.visibility, 0.1)
            poses[i] = dataclasses.replace(pose, visibility=hidden)
        elif 15.0 <= t < 16.5:
            poses[i] = None
    counter = RepCounter(CAT_COW, CONFIG)
    paused_seen = []
    for t, pose in zip(stream.t_s, poses, strict=True):
        counter.update(pose, float(t))
        if 12.5 <= t < 16.5:
            paused_seen.append(counter.status.paused)
            assert counter.reps == 2  # no counting, no reset
    assert all(paused_seen)
    assert not counter.status.paused
    assert counter.reps == 4


def test_an_armed_counter_starts_with_the_first_clear_phase() -> None:
    stream = ev.scripted_set(CAT_COW, [1.0] * 3, lead_in_s=6.0)
    armed = RepCounter(CAT_COW, CONFIG, armed=True, target_reps=3)
    guided = RepCounter(CAT_COW, CONFIG)
    for t, pose in ev.iter_frames(stream):
        armed.update(pose, t)
        guided.update(pose, t)
        if t < 5.0:
            assert not armed.started and not armed.status.started
            assert "Inhale" in armed.status.breath_cue
        assert guided.started
    assert armed.started and armed.reps == 3
    done = armed.finish(float(stream.t_s[-1]))
    assert 5.0 < done.start_s < 6.5  # the first cow, not the prompt
    assert "Target reached: 3 of 3." in done.feedback


def test_tempo_feedback_slow_down_and_keep_moving() -> None:
    fast = RepCounter(CAT_COW, CONFIG)
    run(fast, ev.scripted_set(CAT_COW, [1.0] * 3, tempo_s=0.9))
    assert fast.reps == 3
    assert any("slow down" in text for text in fast.feedback)
    slow = RepCounter(CAT_COW, CONFIG)
    run(slow, ev.scripted_set(CAT_COW, [1.0] * 2, tempo_s=6.0))
    assert slow.reps == 2
    assert any("a little faster" in text for text in slow.feedback)
    steady = RepCounter(CAT_COW, CONFIG)
    run(steady, ev.scripted_set(CAT_COW, [1.0] * 3, tempo_s=2.0))
    assert not any("slow down" in t or "faster" in t for t in steady.feedback)


def _neutral_cues(yaw: float = 0.0):
    camera = Camera(yaw_deg=yaw)
    cues = [measure_cues(synthetic_pose(BodyPose(), camera)) for _ in range(3)]
    return median_cues([c for c in cues if c is not None])


def test_a_set_started_from_a_slouch_is_told_to_reset_to_neutral() -> None:
    slouched = ev.scripted_set(CAT_COW, [1.0] * 2, base={"rounding": 0.7, "forward_head_m": 0.06})
    counter = RepCounter(CAT_COW, CONFIG)
    counter.set_neutral(_neutral_cues())
    run(counter, slouched)
    assert any(text.startswith("Reset to neutral first") for text in counter.feedback)
    upright = RepCounter(CAT_COW, CONFIG, neutral=_neutral_cues())
    run(upright, ev.scripted_set(CAT_COW, [1.0] * 2))
    assert not any(text.startswith("Reset to neutral") for text in upright.feedback)
    no_neutral = RepCounter(CAT_COW, CONFIG)
    run(no_neutral, slouched)
    assert not any(text.startswith("Reset to neutral") for text in no_neutral.feedback)


def test_breath_cue_follows_the_phase() -> None:
    seen: dict[str, set[str]] = {}
    for movement, amplitudes in ((CAT_COW, [1.0] * 2), (LATERAL_FLEXION, [1.0, -1.0])):
        counter = RepCounter(movement, CONFIG)
        for t, pose in ev.iter_frames(ev.scripted_set(movement, amplitudes)):
            counter.update(pose, t)
            status = counter.status
            seen.setdefault(status.phase, set()).add(status.breath_cue.split()[0])
    assert seen["cow"] == {"Inhale:"}
    assert seen["cat"] == {"Exhale:"}
    assert seen["left"] == {"Exhale"} and seen["right"] == {"Exhale"}
    assert "Inhale" in seen["neutral"]


def test_neck_only_cat_cow_is_not_counted_and_is_coached() -> None:
    stream = ev.scripted_set(CAT_COW, [1.0, 1.0])
    counter = RepCounter(CAT_COW, CONFIG)
    run(counter, stream)
    assert counter.reps == 2
    # The same rhythm with the head alone (no spine): nods, not cat-cow.
    nods = ev.Timeline()
    for k in range(3):
        t0 = 3.0 + 4.0 * k
        nods.move(t0 - 0.5, t0 + 0.5, pitch_deg=-20.0)
        nods.move(t0 + 1.5, t0 + 2.5, pitch_deg=25.0)
    nods.move(14.5, 15.5, pitch_deg=0.0)
    t_s = np.arange(0.0, 19.0, 1.0 / ev.FPS)
    none = np.zeros(t_s.shape, dtype=bool)
    rng = np.random.default_rng(3)
    poses = ev.smoothed_poses(nods.render(t_s), t_s, Camera(), 1.0, rng, none, none)
    for t, pose in zip(t_s, poses, strict=True):
        counter.update(pose, float(t) + 30.0)
    assert counter.reps == 2
    assert any("whole spine" in text for text in counter.feedback)


# --- everyday movement is not exercise -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "view"),
    [
        ("jitter", "front"),
        ("head_turn", "front"),
        ("head_turn", "side"),
        ("cough", "oblique"),
        ("reach", "front"),
        ("typing", "side"),
        ("talking", "front"),
        ("talking", "side"),
    ],
)
def test_everyday_movement_counts_nothing(kind: str, view: str) -> None:
    stream = ev.negative_stream(kind, view, 1.0, seed=21, duration_s=30.0)
    out = ev.run_stream(ev.MOVEMENTS, stream, CONFIG)
    for movement in ev.MOVEMENTS:
        assert out[movement].reps == 0
        assert out[movement].armed_reps == 0
        assert out[movement].recognised == ()


def test_the_recogniser_finds_a_rhythmic_set_and_ends_it_after_a_pause() -> None:
    stream = ev.scripted_set(CAT_COW, [1.0] * 6, lead_out_s=8.0)
    recogniser = SetRecognizer(CONFIG)
    done: list[SetCompleted] = []
    active_at: list[tuple[float, str | None, int]] = []
    for t, pose in ev.iter_frames(stream):
        out = recogniser.update(pose, t)
        active_at.append((t, recogniser.active_movement, recogniser.reps_so_far))
        if out is not None:
            done.append(out)
    assert len(done) == 1
    assert done[0].recognised and done[0].movement == CAT_COW and done[0].reps == 6
    assert done[0].end_s < done[0].t_s - CONFIG.set_end_idle_s + 1.0
    # Recognised after the third rep (about 15 s in), counting on from there.
    first_active = next(t for t, movement, _ in active_at if movement == CAT_COW)
    assert 14.0 < first_active < 17.0
    assert max(n for _, _, n in active_at) == 6
    assert recogniser.active_movement is None and recogniser.reps_so_far == 0


def test_the_recogniser_finds_lateral_flexion_too() -> None:
    stream = ev.scripted_set(LATERAL_FLEXION, [1.0, -1.0] * 3, lead_out_s=8.0)
    recogniser = SetRecognizer(CONFIG)
    done = [s for t, p in ev.iter_frames(stream) if (s := recogniser.update(p, t)) is not None]
    assert [(s.movement, s.reps, s.per_side) for s in done] == [
        (LATERAL_FLEXION, 6, {"left": 3, "right": 3})
    ]


@pytest.mark.parametrize("kind", ["fidgeting", "single_stretch", "head_turn"])
def test_the_recogniser_ignores_fidgeting_and_a_single_stretch(kind: str) -> None:
    stream = ev.negative_stream(kind, "front", 1.0, seed=5, duration_s=40.0)
    recogniser = SetRecognizer(CONFIG)
    assert all(recogniser.update(p, t) is None for t, p in ev.iter_frames(stream))
    assert recogniser.active_movement is None


def test_unknown_movement_is_refused() -> None:
    with pytest.raises(ConfigError, match="coach cannot count 'push-up'; countable: cat-cow, "):
        RepCounter("push-up", CONFIG)


# --- the views -------------------------------------------------------------------------------


def _text(renderable) -> str:
    console = Console(record=True, width=100)
    console.print(renderable)
    return console.export_text()


def test_render_count_shows_a_big_count_phase_breath_and_target() -> None:
    status = CounterStatus(
        movement=CAT_COW,
        reps=6,
        per_side=None,
        phase="cow",
        paused=False,
        started=True,
        breath_cue="Inhale: lift your chest, let your back arch",
        last_feedback="Rep 6: slow down, about 2 s per phase (the cow took 0.9 s).",
        target_reps=6,
    )
    text = _text(
        render_count(status, movement_name="Seated cat-cow", cues=("Sit tall.",), elapsed_s=75)
    )
    assert "██████" in text  # the big digits
    assert "6 of 6" in text and "COW" in text and "Inhale" in text and "slow down" in text
    assert "1:15" in text and "Sit tall." in text
    paused = dataclasses.replace(status, paused=True, per_side={"left": 2, "right": 1}, reps=3)
    text = _text(render_count(paused, movement_name="Lateral flexion", cues=(), elapsed_s=5))
    assert "LEFT" in text and "RIGHT" in text and "Paused" in text


def test_summary_table_lists_every_rep_and_the_coaching() -> None:
    stream = ev.scripted_set(LATERAL_FLEXION, [1.0, -1.0, 0.4])
    counter = RepCounter(LATERAL_FLEXION, CONFIG)
    run(counter, stream)
    text = _text(summary_table(counter.finish(float(stream.t_s[-1]))))
    assert "partial" in text and "left" in text and "right" in text
    assert "Left 2, right 1: add one to the right." in text


# --- the real model on the sample clips ------------------------------------------------------


@pytest.mark.slow
def test_sample_clips_are_counted_exactly_through_the_real_model() -> None:
    assert MODEL.exists(), "pose model not built: run `make setup`"
    sample_clip("cat_cow")
    sample_clip("lateral_flexion")
    expected = {"cat_cow": (CAT_COW, 6, None), "lateral_flexion": (LATERAL_FLEXION, 8, (4, 4))}
    for name, (movement, reps, sides) in expected.items():
        counter = RepCounter(movement, CONFIG)
        recogniser = SetRecognizer(CONFIG)
        recognised = []
        poses = ev.clip_poses(name)
        for t, pose in poses:
            counter.update(pose, t)
            if (out := recogniser.update(pose, t)) is not None:
                recognised.append(out)
        # The user sits still after the clip: the recognised set ends.
        last_t, last_pose = poses[-1]
        for i in range(1, 8 * 15):
            if (out := recogniser.update(last_pose, last_t + i / 15)) is not None:
                recognised.append(out)
        assert counter.reps == reps, name
        if sides is not None:
            assert counter.per_side == {"left": sides[0], "right": sides[1]}
        assert [(s.movement, s.reps) for s in recognised] == [(movement, reps)]


# --- other exercises, other bodies, a set that starts at once --------------------------------

DESK = Camera()
FAR = Camera(distance_m=2.2, height_m=-0.35)
"""A camera far enough to see the hips (as in a lab or a living room)."""
LOW = Camera(height_m=-0.3, distance_m=1.0, focal_px=420.0)
"""A laptop camera below shoulder height, looking up: a turned trunk's shoulder line rolls in
the image (the nearer shoulder looks lower), as real trunk rotations do."""


def _bumps(t_s: float, starts_s: list[float], move_s: float, hold_s: float) -> tuple[int, float]:
    """Which bump is under way (its index) and how far out it is (0 to 1)."""
    for i, start_s in enumerate(starts_s):
        back_s = start_s + move_s + hold_s
        if start_s <= t_s <= back_s + move_s:
            return i, ease(t_s, start_s, start_s + move_s) - ease(t_s, back_s, back_s + move_s)
    return 0, 0.0


_TURNS_S = [1.5 + 6.0 * i for i in range(4)]


@pytest.mark.parametrize("hips", [True, False], ids=["hips-seen", "hips-hidden"])
@pytest.mark.parametrize("motion", ["rotation-30", "rotation-40", "side_bend"])
def test_trunk_rotation_with_arms_out_counts_no_side_bend(motion: str, hips: bool) -> None:
    # Same arms, same timing: turning the trunk (30 or 40 degrees each way) is no side bend;
    # bending it 16 degrees is (the control shows the harness can count).
    def body_at(t_s: float) -> BodyPose:
        i, out = _bumps(t_s, _TURNS_S, 1.2, 1.5)
        sign = 1.0 if i % 2 == 0 else -1.0
        arms = ease(t_s, 0.2, 1.0)
        if motion.startswith("rotation"):
            twist_deg = float(motion.split("-")[1])
            return BodyPose(arms_out=arms, twist_deg=sign * twist_deg * out)
        return BodyPose(arms_out=arms, lean_deg=sign * 16.0 * out)

    counter, recognised = count_both(
        LATERAL_FLEXION, pose_stream(body_at, 26.0, LOW, hips=hips), CONFIG
    )
    if motion.startswith("rotation"):
        assert counter.per_side == {"left": 0, "right": 0}
        assert recognised == 0
    else:
        assert counter.per_side == {"left": 2, "right": 2}
        assert recognised == 4


@pytest.mark.parametrize("camera", [DESK, FAR], ids=["desk", "far"])
def test_lateral_flexion_starting_at_once_counts_from_the_first_bend(camera: Camera) -> None:
    # The first bend begins 0.3 s in: there is no quiet second of neutral before it.
    starts_s = [0.3 + 4.5 * i for i in range(4)]

    def body_at(t_s: float) -> BodyPose:
        i, out = _bumps(t_s, starts_s, 1.0, 1.5)
        sign = 1.0 if i % 2 == 0 else -1.0
        return BodyPose(lean_deg=sign * 18.0 * out, arm_raise=0.3 * out)

    counter, _ = count_both(LATERAL_FLEXION, pose_stream(body_at, 20.0, camera), CONFIG)
    assert counter.per_side == {"left": 2, "right": 2}
    assert counter.reps_detail[0].start_s < 1.5


_CAT_COW_S = [3.0 + 4.5 * i for i in range(5)]


def _cat_cow_body(t_s: float, build: BodyPose) -> BodyPose:
    # Cow then cat in every rep: 2 s each way, through neutral.
    i, out = _bumps(t_s, [s for start in _CAT_COW_S for s in (start, start + 2.2)], 0.8, 0.6)
    if i % 2 == 0:
        return dataclasses.replace(build, extension=0.9 * out, pitch_deg=-20.0 * out)
    return dataclasses.replace(
        build, rounding=0.8 * out, pitch_deg=25.0 * out, forward_head_m=0.015 * out
    )


@pytest.mark.parametrize(
    ("build", "camera"),
    [
        (BodyPose(shoulder_scale=1.3), DESK),
        (BodyPose(shoulder_scale=0.8, neck_m=0.04), DESK),
        (BodyPose(shoulder_scale=1.2, neck_m=0.05), Camera(height_m=-0.42, distance_m=1.1)),
        (BodyPose(shoulder_scale=0.85), Camera(height_m=-0.8, distance_m=1.2)),
        (BodyPose(shoulder_scale=1.15), FAR),
    ],
    ids=["broad", "narrow-long-neck", "broad-low-camera", "narrow-high-camera", "far"],
)
def test_cat_cow_is_counted_on_other_builds(build: BodyPose, camera: Camera) -> None:
    counter, recognised = count_both(
        CAT_COW, pose_stream(lambda t_s: _cat_cow_body(t_s, build), 28.0, camera), CONFIG
    )
    assert counter.reps == 5
    assert recognised == 5


@pytest.mark.parametrize("camera", [DESK, FAR], ids=["desk", "far"])
def test_a_nod_alone_counts_no_cat_cow(camera: Camera) -> None:
    # The head alone goes through a full cat-cow's range (look up, chin down), the spine stays.
    def body_at(t_s: float) -> BodyPose:
        i, out = _bumps(t_s, [3.0 + 2.2 * k for k in range(10)], 0.8, 0.6)
        return BodyPose(pitch_deg=(-20.0 if i % 2 == 0 else 25.0) * out)

    counter, recognised = count_both(CAT_COW, pose_stream(body_at, 28.0, camera), CONFIG)
    assert counter.reps == 0
    assert recognised == 0


def _warm_up_set(range_share: float, first_share: float, first_hold_s: float):
    """Five cat-cows at one tempo and range, the first at `first_share` of the others' range,
    its poles held `first_hold_s` (the others 0.6 s)."""
    poles: list[tuple[float, float, int, float]] = []  # (start, hold, pole, share)
    start_s = 3.0
    for k in range(5):
        hold_s = first_hold_s if k == 0 else 0.6
        share = range_share * (first_share if k == 0 else 1.0)
        poles += [(start_s, hold_s, 1, share), (start_s + 1.6 + hold_s, hold_s, -1, share)]
        start_s += 2.0 * (1.6 + hold_s) + 0.1

    def body_at(t_s: float) -> BodyPose:
        for pole_s, hold_s, pole, share in poles:
            _, out = _bumps(t_s, [pole_s], 0.8, hold_s)
            if out > 0.0:
                out *= share
                if pole == 1:
                    return BodyPose(extension=0.9 * out, pitch_deg=-20.0 * out)
                return BodyPose(
                    rounding=0.8 * out, pitch_deg=25.0 * out, forward_head_m=0.015 * out
                )
        return BodyPose()

    return body_at


@pytest.mark.parametrize(
    ("range_share", "first_share", "first_hold_s", "recognised_reps"),
    [(0.5, 0.62, 0.6, 5), (0.5, 0.62, 4.0, 4), (0.6, 0.45, 0.6, 4)],
    ids=["same-tempo-and-range", "much-slower", "under-half-the-range"],
)
def test_a_recognised_set_credits_its_smaller_first_rep_only_at_its_own_tempo_and_range(
    range_share: float, first_share: float, first_hold_s: float, recognised_reps: int
) -> None:
    # The first rep is too small to start a set unprompted, so recognition begins at the
    # second; once the set is known, the first joins it if it kept the set's tempo and came
    # within its range ratio, and not when it was far slower or under half the others' span.
    stream = pose_stream(_warm_up_set(range_share, first_share, first_hold_s), 42.0, DESK)
    counter, recognised = count_both(CAT_COW, stream, CONFIG)
    assert counter.reps == 5
    first, *rest = counter.raw_ranges()
    assert first < CONFIG.recognise_cat_cow_range <= min(rest)
    assert recognised == recognised_reps


# --- the body and camera matrix (issue 21) ---------------------------------------------------


@pytest.mark.parametrize("case", covering_cases(), ids=lambda c: c.label)
def test_every_body_camera_and_tempo_counts_exactly(case: Case) -> None:
    # Guided (a counter per movement) and unprompted (the recogniser): the exercise done is
    # counted exactly, per side for side bends, and nothing else is counted at all; arm raises,
    # a hand to the face, typing and talking count nothing anywhere.
    counted = count_case(case, CONFIG)
    reps, left, right = counted.script_reps
    own = counted.guided.get(case.movement)
    if case.movement in EXERCISES:
        assert reps >= 5
        assert own == (reps, left, right)
        assert counted.recognised == ((case.movement, reps, left, right),)
    for movement, got in counted.guided.items():
        if movement != case.movement:
            assert got == (0, 0, 0), movement
    if case.movement not in EXERCISES:
        assert counted.recognised == ()
    assert counted.exact


def test_the_matrix_covers_every_body_camera_tempo_and_range() -> None:
    cases = covering_cases()
    for movement in EXERCISES:
        mine = [c for c in cases if c.movement == movement]
        assert {c.body for c in mine} == set(BODIES)
        assert {c.height for c in mine} == set(CAMERA_HEIGHTS_M)
        assert {c.distance for c in mine} == set(CAMERA_DISTANCES_M)
        assert {c.tempo for c in mine} == set(TEMPI_S)
        assert {c.range_name for c in mine} == set(RANGES)
    assert {c.movement for c in cases} == set(EXERCISES) | set(NEGATIVES)


def test_the_bodies_differ_in_every_proportion() -> None:
    builds = list(BODIES.values())
    assert len(builds) >= 4 and BODIES["sample"] == BodyPose()
    for field in ("shoulder_scale", "neck_m", "torso_scale", "head_scale"):
        assert len({getattr(b, field) for b in builds}) >= 4, field
    # The signals' scale follows each person's own head: about 1 on the default body, larger
    # for a big head on narrow shoulders, smaller for a small head on broad ones.
    ratios = {
        name: view_context(synthetic_pose(b), CONFIG.min_visibility).head_ratio
        for name, b in BODIES.items()
    }
    assert ratios["sample"] == pytest.approx(1.0, abs=0.05)
    assert ratios["small-big-head"] > 1.3 and ratios["tall-small-head"] < 0.85


def test_a_hand_at_the_face_or_overhead_stops_a_cat_cow_pole_and_a_lap_hand_does_not() -> None:
    # The hand gate on its own: the same cow posture, hands in the lap or raised.
    camera = Camera(height_m=-0.55, distance_m=1.4, aim_y_m=-0.58)
    neutral = synthetic_pose(BodyPose(), camera)
    context = view_context(neutral, CONFIG.min_visibility)
    lap = hand_height(neutral, context, CONFIG.min_visibility)
    assert lap is not None and lap < -CONFIG.cat_cow_hand_clearance - 0.5
    for raised in (BodyPose(hands_up=1.0), BodyPose(hand_to_face=1.0)):
        height = hand_height(synthetic_pose(raised, camera), context, CONFIG.min_visibility)
        assert height is not None and height > -CONFIG.cat_cow_hand_clearance + 0.2
    # Raised arms lift the elbows to the shoulder line or above; resting ones are well below.
    elbows = [
        hand_height(synthetic_pose(b, camera), context, CONFIG.min_visibility, ELBOWS)
        for b in (BodyPose(), BodyPose(hands_up=1.0))
    ]
    assert elbows[0] is not None and elbows[0] < -0.4
    assert elbows[1] is not None and elbows[1] > 0.0
    # Overhead and out of a near webcam's view still counts as raised.
    near = Camera(height_m=-0.55, distance_m=0.7, aim_y_m=-0.58)
    overhead = synthetic_pose(BodyPose(hands_up=1.0), near)
    height = hand_height(overhead, view_context(overhead, 0.5), CONFIG.min_visibility)
    assert height is not None and height > 0.0
