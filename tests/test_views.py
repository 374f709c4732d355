"""Tests for the views: the dashboard text, the preview drawing, and nudge delivery with fakes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from rich.console import Console

from coach.actions.dashboard import DashboardView, light_problem, render
from coach.actions.notify import NotifyButton, NudgeAnnouncer, chime_waveform
from coach.actions.preview import draw_preview
from coach.analyzer import Analyzer
from coach.config import Config, SlouchConfig
from coach.movements import load_library
from coach.records import Frame, Nudge, PoseSample, Snapshot, Tracking
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample


def snapshot_after(bodies: list[BodyPose], fps: float = 5.0) -> Snapshot:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=2.0)
    snap = None
    for i, body in enumerate(bodies):
        snap = analyzer.update(synthetic_sample(synthetic_pose(body, Camera()), i / fps))
    assert snap is not None
    return snap


def text_of(view: DashboardView) -> str:
    console = Console(record=True, width=100)
    console.print(render(view, SlouchConfig()))
    return console.export_text()


def base_view(**changes: object) -> DashboardView:
    view = DashboardView(
        source="camera 0",
        t_s=75.0,
        state="slouched",
        state_for_s=50.0,
        tracking=Tracking.OK,
        people=1,
        view="front",
        forward_head=22.0,
        thoracic_rounding=4.0,
        lean_deg=1.0,
        calibrating=None,
        next_nudge_in_s=12.0,
        message=None,
        recalibrate=False,
        analysed_fps=5.0,
        pose_ms=31.0,
        activity="still",
        seated_s=1900.0,
        since_movement_s=1900.0,
        next_prompt="in 0:12: forward head",
    )
    return dataclasses.replace(view, **changes)


def test_dashboard_shows_metrics_state_and_next_nudge() -> None:
    text = text_of(base_view())
    assert "SLOUCHED" in text and "for 0:50" in text
    threshold = SlouchConfig().forward_head_enter * SlouchConfig().threshold_scale
    assert "+22.0" in text and f"slouch at {threshold:g}" in text
    assert "in 0:12 if you stay like this" in text
    assert "31:40 without a break" in text
    assert "Next prompt" in text and "forward head" in text


def test_dashboard_shows_the_prompt_card_and_quiet_modes() -> None:
    card = ("Time to move", ("Ankle pumps: 12 reps", "  • Lift your toes", "  Breath: exhale down"))
    text = text_of(base_view(prompt_card=card, quiet_until="snoozed for 14:00", recalibrate=True))
    assert "Ankle pumps: 12 reps" in text and "Breath:" in text
    assert "snoozed for 14:00" in text
    assert "coach calibrate" in text


def test_light_problems_are_told_apart_from_absence() -> None:
    snap = snapshot_after([BodyPose()] * 5)
    empty = PoseSample(
        t_s=1.0, pose=None, tracking=Tracking.NO_PERSON, brightness=120.0, contrast=40.0
    )
    dark = dataclasses.replace(empty, brightness=12.0)
    covered = dataclasses.replace(empty, brightness=60.0, contrast=1.0)
    assert light_problem(dataclasses.replace(snap, sample=empty)) is None
    assert "too dark" in (light_problem(dataclasses.replace(snap, sample=dark)) or "")
    assert "covered" in (light_problem(dataclasses.replace(snap, sample=covered)) or "")


def test_skeleton_only_preview_shows_no_camera_pixels() -> None:
    snap = snapshot_after([BodyPose()] * 20)
    rng = np.random.default_rng(0)
    camera_image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    frame = Frame(image=camera_image, t_s=snap.t_s, index=0)
    skeleton = draw_preview(snap, frame, skeleton_only=True).image
    full = draw_preview(snap, frame, skeleton_only=False).image
    # Random camera noise has a huge spread; the skeleton-only canvas is flat except drawings.
    assert (skeleton == 24).all(axis=2).mean() > 0.8
    assert (full == 24).all(axis=2).mean() < 0.05
    assert not np.array_equal(skeleton, np.full_like(skeleton, 24))  # the skeleton is drawn


def test_preview_draws_the_nudge_text() -> None:
    snap = snapshot_after([BodyPose()] * 20)
    plain = draw_preview(snap, None, skeleton_only=True)
    nudged = draw_preview(snap, None, skeleton_only=True, message="Sit tall and try a chin tuck.")
    assert (plain.image != nudged.image).any(axis=2)[36:70].mean() > 0.5  # the box behind it
    told = [text for text in nudged.texts if text not in plain.texts]
    assert [text.text for text in told] == ["Sit tall and try a chin tuck."]
    assert all(36 < text.y < 70 for text in told)
    # A long nudge wraps to the picture's width, every word kept, in the box.
    message = "Your head has drifted forward of your shoulders for about a minute " * 3
    narrow = draw_preview(snap, None, skeleton_only=True, message=message, size=(320, 240))
    lines = [text.text for text in narrow.texts if text.colour_bgr == (255, 255, 255)]
    assert len(lines) > 3 and max(map(len, lines)) <= (320 - 16) // 9
    assert " ".join(lines).split() == message.split()
    assert narrow.image.shape == (240, 320, 3)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(
        self, title: str, message: str, buttons: Sequence[NotifyButton] = (), tag=None
    ) -> None:
        self.sent.append((title, message))

    def withdraw(self, tag: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_announcer_sends_each_nudge_once_and_the_recalibration_advice() -> None:
    notifier = FakeNotifier()
    announcer = NudgeAnnouncer(notifier, chime=None)
    snap = snapshot_after([BodyPose()] * 5)
    nudge = Nudge(1.0, "forward_head", "neck-waves", "Posture check", "Try neck waves", prompt_id=1)
    announcer.update(dataclasses.replace(snap, events=(nudge,)), None)
    announcer.update(snap, None)
    announcer.update(dataclasses.replace(snap, recalibrate=True), None)
    announcer.update(dataclasses.replace(snap, recalibrate=True), None)
    announcer.close()
    assert [t for t, _ in notifier.sent] == ["Posture check", "Camera or seat moved?"]


def test_chime_is_soft_and_short() -> None:
    wave = chime_waveform()
    assert wave.dtype == np.float32 and 0.5 < len(wave) / 44100 < 1.5
    assert 0.1 < float(np.abs(wave).max()) <= 0.2


def test_preview_fits_the_frame_in_the_window_keeping_its_shape() -> None:
    snap = snapshot_after([BodyPose()] * 20)
    frame = Frame(np.full((240, 320, 3), (40, 120, 200), dtype=np.uint8), t_s=snap.t_s, index=0)
    picture = draw_preview(snap, frame, skeleton_only=False, size=(400, 400)).image
    assert picture.shape == (400, 400, 3)
    camera = np.all(picture == (40, 120, 200), axis=2)
    rows = np.flatnonzero(camera.any(axis=1))
    assert (rows.min(), rows.max()) == (50, 349)  # 4:3 in a square: bands above and below
    assert (picture[:50, :, :] != (40, 120, 200)).any(axis=2).all()
    # The skeleton lands on the picture, where the same pose lands on the unscaled frame.
    small = draw_preview(snap, frame, skeleton_only=True).image
    big = draw_preview(snap, frame, skeleton_only=True, size=(640, 480)).image
    # The landmark dots between the banner and the bars (which do not scale with the picture).
    white_small = np.argwhere(np.all(small[40:160] == 255, axis=2)).mean(axis=0) + np.array([40, 0])
    white_big = np.argwhere(np.all(big[80:320] == 255, axis=2)).mean(axis=0) + np.array([80, 0])
    assert np.allclose(white_big, white_small * 2, atol=3)
