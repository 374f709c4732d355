#!/usr/bin/env python3
"""Build reproducible sample videos of a real person, with exact ground truth.

The clips are made from one real photograph that ships inside a registry
package: matplotlib's ``mpl-data/sample_data/grace_hopper.jpg`` (a
head-and-shoulders portrait).  The portrait is placed on a 640x480 canvas the
way a webcam above a monitor sees a seated user, cut out of its background
with a fixed silhouette polygon, and then deformed frame by frame by a smooth
"skinned" warp driven by a small pose-parameter vector (lean, head drop, head
scale, head pitch, shoulder narrowing, chest lift, shift, presence).  The
per-frame parameter values ARE the ground truth and are written to
``NAME.json`` next to ``NAME.mp4``.

Usage::

    .venv/bin/python sample_videos/build.py [--out DIR] [--only NAME] [--force]

The script is standalone: it only needs numpy, OpenCV (cv2) and matplotlib
(for the photo) and imports nothing from the ``coach`` package.  Everything is
deterministic (seeded RNG, rounded floats), so the ground-truth JSON files are
byte-identical on every run and can be committed; the videos are git-ignored
and rebuilt on demand.  See ``sample_videos/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Arr = npt.NDArray[Any]
Pose = dict[str, float]

__all__ = ["CLIP_NAMES", "build_clip", "clip_ground_truth", "main"]

# --------------------------------------------------------------------------
# Output format
# --------------------------------------------------------------------------
WIDTH = 640
HEIGHT = 480
FPS = 15
FOURCC = "mp4v"
SEED = 20240611
DECIMALS = 4

CLIP_NAMES: tuple[str, ...] = (
    "neutral",
    "slouch",
    "forward_head_grades",
    "cat_cow",
    "lateral_flexion",
    "still_moving_away",
)

SOURCE_PHOTO = "matplotlib/mpl-data/sample_data/grace_hopper.jpg"
DEFAULT_OUT = Path(__file__).resolve().parent

# Per-frame parameters (ground-truth tracks), with their rest values.
REST: dict[str, float] = {
    "present": 1.0,  # 1 = person in frame, 0 = empty scene
    "lean_deg": 0.0,  # lateral lean; + = head/torso toward image right
    "head_drop": 0.0,  # head lowered, fraction of rest shoulder width
    "head_scale": 1.0,  # head size multiplier (head toward the camera)
    "head_pitch": 0.0,  # degrees; + = nod down (chin down), - = look up
    "head_roll": 0.0,  # degrees of extra head tilt about the neck; + = like lean
    "shoulder_narrow": 0.0,  # shoulders rolled forward, fraction of width
    "chest_lift": 0.0,  # shoulders up/back & wider (cow), fraction of width
    "breath": 0.0,  # tiny breathing chest lift, same unit as chest_lift
    "shift_x_px": 0.0,  # whole-body translation, + = image right
    "shift_y_px": 0.0,  # whole-body translation, + = down
}
TRACKS: tuple[str, ...] = tuple(REST)

# --------------------------------------------------------------------------
# Geometry of the portrait (photo pixel coordinates, 512x600 image) and its
# placement on the canvas: canvas = OFFSET + SCALE * photo.
# --------------------------------------------------------------------------
PHOTO_SCALE = 0.72
PHOTO_OFFSET = (122.0, 40.0)

# Person silhouette (photo coords).  Traced once from a segmentation of the
# photo and hard-coded so the build needs no model; extended past the right
# and bottom edges of the photo (the arm/jacket continues there).
SILHOUETTE = [
    (233, 24),
    (203, 50),
    (146, 115),
    (145, 162),
    (149, 175),
    (146, 212),
    (158, 228),
    (168, 268),
    (186, 280),
    (193, 294),
    (193, 321),
    (183, 332),
    (144, 351),
    (67, 372),
    (56, 381),
    (38, 389),
    (23, 408),
    (23, 503),
    (21, 516),
    (14, 525),
    (10, 545),
    (10, 599),
    (6, 700),
    (4, 900),
    (540, 900),
    (538, 700),
    (530, 580),
    (521, 500),
    (511, 441),
    (501, 421),
    (499, 404),
    (489, 391),
    (463, 374),
    (444, 373),
    (420, 364),
    (411, 357),
    (397, 355),
    (387, 348),
    (376, 346),
    (350, 333),
    (340, 323),
    (339, 307),
    (346, 288),
    (361, 269),
    (366, 247),
    (366, 226),
    (372, 215),
    (373, 182),
    (367, 168),
    (368, 97),
    (339, 58),
    (319, 45),
    (278, 27),
]

# Landmarks of the rest pose (photo coords, from MediaPipe Pose on the photo).
PHOTO_NOSE = (269.8, 225.2)
PHOTO_NOSE_TIP = (262.0, 242.0)
PHOTO_EARS = ((339.4, 210.9), (195.0, 217.1))  # image-right, image-left
PHOTO_SHOULDERS = ((455.6, 428.5), (95.6, 422.9))  # image-right, image-left
PHOTO_MOUTH = (271.0, 269.0)
PHOTO_CHIN = (264.0, 322.0)
PHOTO_NECK = (266.0, 352.0)
PHOTO_HEAD_ELLIPSE = ((259.0, 173.0), (114.0, 149.0))  # centre, radii


def _to_canvas(pt: tuple[float, float]) -> tuple[float, float]:
    return (PHOTO_OFFSET[0] + PHOTO_SCALE * pt[0], PHOTO_OFFSET[1] + PHOTO_SCALE * pt[1])


SHOULDER_WIDTH_PX = PHOTO_SCALE * (PHOTO_SHOULDERS[0][0] - PHOTO_SHOULDERS[1][0])
BODY_CX = _to_canvas(((PHOTO_SHOULDERS[0][0] + PHOTO_SHOULDERS[1][0]) / 2, 0))[0]
EAR_Y = _to_canvas((0, (PHOTO_EARS[0][1] + PHOTO_EARS[1][1]) / 2))[1]
HEAD_C = _to_canvas(PHOTO_HEAD_ELLIPSE[0])
HEAD_R = (PHOTO_SCALE * PHOTO_HEAD_ELLIPSE[1][0], PHOTO_SCALE * PHOTO_HEAD_ELLIPSE[1][1])
HEAD_SCALE_CENTRE = _to_canvas(PHOTO_MOUTH)
HEAD_ROLL_CENTRE = _to_canvas(PHOTO_NECK)
NOSE_TIP = _to_canvas(PHOTO_NOSE_TIP)
# Lean pivot: bottom centre of the canvas, down at the hips (below the frame).
LEAN_PIVOT = (float(WIDTH) / 2, 720.0)

# Warp model constants (canvas pixels).
HEAD_FALLOFF = (1.0, 1.95)  # head weight 1 inside the ellipse, 0 beyond 1.95x
FACE_DEPTH = 0.9 * HEAD_R[0]  # depth of the face front ahead of the ear axis
NOSE_DEPTH = 14.0  # extra depth of the nose ridge/tip
NOSE_SIGMA = (8.0, 14.0)
SIDE_RAMP = (35.0, 140.0)  # |x - body centre| where the shoulder weight ramps up
BG_SPLIT_X = 215.0  # photo x where the flag gives way to the blue wall
MARGIN = 200  # source padding around the canvas for the warp
BEND_Y = (370.0, 600.0)  # canvas y: full lean above, none below (hips)
WARM_TOL = {  # max parameter change between frames for a warm-started solve
    "lean_deg": 1.5,
    "head_drop": 0.02,
    "head_scale": 0.03,
    "head_pitch": 4.0,
    "head_roll": 2.0,
    "shoulder_narrow": 0.02,
    "chest_lift": 0.02,
    "breath": 0.02,
    "shift_x_px": 6.0,
    "shift_y_px": 6.0,
}
MAP_STEP = 4  # the inverse map is solved on a grid of this step and upsampled


# --------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------
class Timeline:
    """Per-parameter keyframes, cosine-eased in between."""

    def __init__(self, duration_s: float):
        self.n = round(duration_s * FPS)
        self.t = np.arange(self.n, dtype=np.float64) / FPS
        self.keys: dict[str, list[tuple[float, float]]] = {k: [(0.0, v)] for k, v in REST.items()}
        self.extra: dict[str, Any] = {}

    def value(self, name: str) -> float:
        return self.keys[name][-1][1]

    def move(self, t0: float, t1: float, **vals: float) -> None:
        """Ease each named parameter from its current value (held until t0) to
        the given value at t1."""
        for k, v in vals.items():
            keys = self.keys[k]
            if t0 < keys[-1][0] - 1e-9:
                raise ValueError(f"keyframes for {k} out of order at {t0}")
            keys.append((t0, keys[-1][1]))
            keys.append((t1, float(v)))

    def set(self, t: float, **vals: float) -> None:
        """Jump (step) to a value at time t."""
        self.move(t, t, **vals)

    def render(self) -> dict[str, np.ndarray]:
        out = {}
        for k, keys in self.keys.items():
            v = np.full(self.n, keys[0][1])
            for (ta, va), (tb, vb) in pairwise(keys):
                if tb <= ta:
                    v[self.t >= tb] = vb
                    continue
                s = np.clip((self.t - ta) / (tb - ta), 0.0, 1.0)
                seg = va + (vb - va) * (1 - np.cos(np.pi * s)) / 2
                m = self.t >= ta
                v[m] = seg[m]
            out[k] = v
        return out


def _idle(tracks: dict[str, np.ndarray], t: np.ndarray, rng: np.random.Generator) -> None:
    """Add tiny sway and breathing so that frames are never identical."""
    ph = rng.uniform(0, 2 * np.pi, size=5)
    tracks["lean_deg"] = (
        tracks["lean_deg"]
        + 0.22 * np.sin(2 * np.pi * t / 7.3 + ph[0])
        + 0.08 * np.sin(2 * np.pi * t / 3.1 + ph[1])
    )
    tracks["breath"] = tracks["breath"] + 0.006 * np.sin(2 * np.pi * t / 4.2 + ph[2])
    tracks["shift_x_px"] = tracks["shift_x_px"] + 0.7 * np.sin(2 * np.pi * t / 9.7 + ph[3])
    tracks["shift_y_px"] = tracks["shift_y_px"] + 0.4 * np.sin(2 * np.pi * t / 5.9 + ph[4])


def _r(x: float) -> float:
    return round(float(x), DECIMALS) + 0.0


def _iv(a: float, b: float) -> list[float]:
    return [_r(a), _r(b)]


class ClipSpec:
    """A clip's name, description, per-frame tracks and clip-specific ground truth."""

    def __init__(
        self,
        name: str,
        description: str,
        tracks: dict[str, np.ndarray],
        t: np.ndarray,
        extra: dict[str, Any] | None = None,
    ):
        self.name = name
        self.description = description
        self.tracks = tracks
        self.t = t
        self.extra = extra or {}


SLOUCH_POSE = dict(head_drop=0.15, head_scale=1.2, shoulder_narrow=0.10, head_pitch=4.0)


def _clip_neutral(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(20.0)
    return ClipSpec(
        "neutral",
        "Upright sitting for 20 s with only tiny sway and breathing.",
        tl.render(),
        tl.t,
        {},
    )


def _clip_slouch(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(120.0)
    slouches, glances, ups = [], [], []

    def slouch(t0: float, dur_in: float, t_back: float, dur_out: float, pose: Pose) -> None:
        tl.move(t0, t0 + dur_in, **pose)
        tl.move(t_back, t_back + dur_out, **{k: REST[k] for k in pose})
        slouches.append(_iv(t0 + dur_in / 2, t_back + dur_out / 2))

    # 0-15 s upright (calibration window)
    slouch(15.0, 3.0, 43.0, 2.0, SLOUCH_POSE)  # held ~25 s
    # glance down at the keyboard: a 2 s nod, not a slouch
    tl.move(59.75, 60.25, head_pitch=24.0)
    tl.move(61.75, 62.25, head_pitch=0.0)
    glances.append(_iv(60.0, 62.0))
    slouch(
        72.0,
        3.0,
        98.0,
        2.5,
        dict(head_drop=0.13, head_scale=1.17, shoulder_narrow=0.09, head_pitch=3.0),
    )
    # look up for a moment (not a slouch)
    tl.move(108.0, 108.6, head_pitch=-18.0, head_drop=-0.02)
    tl.move(110.4, 111.0, head_pitch=0.0, head_drop=0.0)
    ups.append(_iv(108.3, 110.7))
    return ClipSpec(
        "slouch",
        "15 s upright (calibration), then two slouch episodes (head lowered, brought toward the "
        "camera so it looks ~17-20% bigger, shoulders narrowed ~9-10%), each held ~25 s with "
        "upright periods in between; one 2 s glance down at the keyboard and one look-up moment, "
        "neither of which is a slouch. Intervals run between the midpoints of the transitions.",
        tl.render(),
        tl.t,
        {"slouch_intervals_s": slouches, "glance_intervals_s": glances, "look_up_intervals_s": ups},
    )


def _clip_forward_head(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(50.0)
    grades = []
    ramp = 0.8
    for i, s in enumerate((1.05, 1.10, 1.15, 1.20, 1.25)):
        start = 10.0 + 6.0 * i
        tl.move(
            start - ramp / 2, start + ramp / 2, head_scale=s, head_drop=round(0.3 * (s - 1.0), 4)
        )
        grades.append(
            {
                "grade": i + 1,
                "start_s": _r(start),
                "end_s": _r(start + 6.0),
                "head_scale": s,
                "head_drop": _r(0.3 * (s - 1.0)),
            }
        )
    tl.move(40.0 - ramp / 2, 40.0 + ramp / 2, head_scale=1.0, head_drop=0.0)
    tl.move(44.0 - 0.3, 44.0 + 0.3, head_pitch=-18.0)
    tl.move(48.0 - 0.3, 48.0 + 0.3, head_pitch=0.0)
    return ClipSpec(
        "forward_head_grades",
        "10 s upright, then 5 grades of forward head posture (head brought toward the camera: head "
        "scale 1.05..1.25 with a slight drop of 0.3*(scale-1) shoulder widths), each held 6 s, back "
        "to neutral at 40 s, a 4 s look up at 44-48 s, neutral to the end. Grade boundaries are the "
        "midpoints of 0.8 s transitions.",
        tl.render(),
        tl.t,
        {"grades": grades, "look_up_intervals_s": [_iv(44.0, 48.0)]},
    )


COW_POSE = dict(head_pitch=-20.0, chest_lift=0.08, head_drop=-0.03, shoulder_narrow=0.0)
CAT_POSE = dict(head_pitch=26.0, chest_lift=0.0, head_drop=0.08, shoulder_narrow=0.09)


def _clip_cat_cow(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(40.0)
    reps, phases = [], []
    for k in range(6):
        t0 = 8.0 + 4.0 * k
        tl.move(t0 - 0.4, t0 + 0.4, **COW_POSE)  # neutral/cat -> cow, midpoint t0
        tl.move(t0 + 1.5, t0 + 2.5, **CAT_POSE)  # cow -> cat, midpoint t0 + 2
        reps.append({"rep": k + 1, "start_s": _r(t0), "end_s": _r(t0 + 4.0)})
        phases.append({"phase": "cow", "start_s": _r(t0), "end_s": _r(t0 + 2.0)})
        phases.append({"phase": "cat", "start_s": _r(t0 + 2.0), "end_s": _r(t0 + 4.0)})
    tl.move(31.6, 32.4, **{k: REST[k] for k in COW_POSE})  # cat -> neutral, midpoint 32
    return ClipSpec(
        "cat_cow",
        "8 s neutral, then exactly 6 reps of seated cat-cow, 2 s per phase (cow: chin up, chest "
        "lifted, shoulders up and wider; cat: chin tucked down, head lowered, shoulders rounded "
        "forward/narrowed), then neutral from 32 s. Phase boundaries are the midpoints of the "
        "transitions (0.8 s into cow, 1 s cow->cat).",
        tl.render(),
        tl.t,
        {
            "reps": 6,
            "reps_detail": reps,
            "phases": phases,
            "cow_pose": COW_POSE,
            "cat_pose": CAT_POSE,
        },
    )


def _clip_lateral_flexion(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(48.0)
    angles = (16.0, -17.0, 15.0, -16.0, 18.0, -15.0, 16.0, -18.0)
    reps = []
    for k, a in enumerate(angles):
        t0 = 8.0 + 4.5 * k
        tl.move(t0, t0 + 1.0, lean_deg=a, head_roll=0.5 * a)
        tl.move(t0 + 3.0, t0 + 4.0, lean_deg=0.0, head_roll=0.0)
        reps.append(
            {
                "rep": k + 1,
                "side": "right" if a > 0 else "left",
                "peak_lean_deg": a,
                "start_s": _r(t0),
                "end_s": _r(t0 + 4.0),
                "hold_s": _iv(t0 + 1.0, t0 + 3.0),
            }
        )
    return ClipSpec(
        "lateral_flexion",
        "8 s neutral, then 8 alternating seated lateral flexions (4 toward the image right, 4 "
        "toward the image left) of 15-18 degrees about a pivot at the hips below the frame, the "
        "head tilting a further half of that about the neck (head_roll): 1 s down, 2 s hold, 1 s "
        "back, 0.5 s pause; then neutral to the end.",
        tl.render(),
        tl.t,
        {
            "reps_right": sum(1 for a in angles if a > 0),
            "reps_left": sum(1 for a in angles if a < 0),
            "reps_detail": reps,
        },
    )


def _clip_still_moving_away(rng: np.random.Generator) -> ClipSpec:
    tl = Timeline(90.0)
    # 25-35 s moving: shifting, leaning, stretching.  Built from keyframes.
    moves = [
        (25.0, 26.2, dict(shift_x_px=-45.0, lean_deg=-6.0, head_pitch=5.0)),
        (
            26.2,
            27.6,
            dict(shift_x_px=38.0, lean_deg=7.0, shift_y_px=8.0, head_pitch=-4.0, head_roll=5.0),
        ),
        (
            27.6,
            29.0,
            dict(
                shift_x_px=0.0,
                lean_deg=0.0,
                chest_lift=0.09,
                shift_y_px=-12.0,
                head_pitch=-12.0,
                head_roll=0.0,
            ),
        ),
        (
            29.0,
            30.4,
            dict(chest_lift=0.0, shift_y_px=6.0, lean_deg=-10.0, shift_x_px=-25.0, head_pitch=8.0),
        ),
        (
            30.4,
            31.8,
            dict(
                lean_deg=9.0, shift_x_px=30.0, shift_y_px=0.0, head_pitch=0.0, shoulder_narrow=0.06
            ),
        ),
        (
            31.8,
            33.2,
            dict(
                lean_deg=-4.0,
                shift_x_px=-15.0,
                shoulder_narrow=0.0,
                head_scale=1.08,
                head_roll=-6.0,
            ),
        ),
        (33.2, 35.0, dict(lean_deg=0.0, shift_x_px=0.0, head_scale=1.0, head_roll=0.0)),
    ]
    for t0, t1, pose in moves:
        tl.move(t0, t1, **pose)
    tl.set(55.0, present=0.0)
    tl.set(70.0, present=1.0)
    return ClipSpec(
        "still_moving_away",
        "Still 0-25 s, moving 25-35 s (shifting sideways, leaning, stretching), still 35-55 s, "
        "away 55-70 s (empty scene, the person is cut out; abrupt cut), back and still 70-90 s.",
        tl.render(),
        tl.t,
        {
            "still_intervals_s": [_iv(0, 25), _iv(35, 55), _iv(70, 90)],
            "moving_intervals_s": [_iv(25, 35)],
            "away_intervals_s": [_iv(55, 70)],
        },
    )


_CLIP_BUILDERS = {
    "neutral": _clip_neutral,
    "slouch": _clip_slouch,
    "forward_head_grades": _clip_forward_head,
    "cat_cow": _clip_cat_cow,
    "lateral_flexion": _clip_lateral_flexion,
    "still_moving_away": _clip_still_moving_away,
}


def clip_spec(name: str) -> ClipSpec:
    if name not in _CLIP_BUILDERS:
        raise KeyError(f"unknown clip {name!r}; choose from {', '.join(CLIP_NAMES)}")
    rng = np.random.default_rng([SEED, CLIP_NAMES.index(name)])
    spec = _CLIP_BUILDERS[name](rng)
    _idle(spec.tracks, spec.t, rng)
    return spec


# --------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------
def photo_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def clip_ground_truth(name: str) -> dict[str, Any]:
    spec = clip_spec(name)
    n = len(spec.t)
    data = photo_path().read_bytes()
    gt = {
        "clip": name,
        "video": f"{name}.mp4",
        "fps": FPS,
        "frames": n,
        "duration_s": _r(n / FPS),
        "width": WIDTH,
        "height": HEIGHT,
        "source_photo": SOURCE_PHOTO,
        "source_photo_sha256": hashlib.sha256(data).hexdigest(),
        "description": spec.description,
        "conventions": {
            "lean_deg": "lateral lean (side bend): everything from the shoulders up rotates by lean_deg "
            "about a pivot at the hips (canvas x=320, y=720, below the frame), the lower torso bends "
            "progressively less (hips fixed); + = toward the image right (the subject's own left in "
            "this unmirrored view), i.e. the image-right shoulder is lower; the shoulder line "
            "(image-left to image-right shoulder, y down) rolls by exactly lean_deg from its rest angle",
            "head_drop": "head moved down relative to the shoulders, fraction of the rest shoulder width",
            "head_scale": "head size multiplier (head brought toward the camera), about the mouth",
            "head_pitch": "degrees of nod; + = chin down (looking down), - = looking up",
            "head_roll": "degrees of extra head tilt about the base of the neck, relative to the "
            "shoulders; + = same direction as + lean (top of the head toward the image right)",
            "shoulder_narrow": "each shoulder moved inward by narrow*width/2 (rounded forward) and "
            "down by 0.15*narrow*width",
            "chest_lift": "shoulders moved up by 0.3*lift*width and outward by 0.25*lift*width each, "
            "chest up by 0.12*lift*width",
            "breath": "tiny breathing chest lift, same unit as chest_lift",
            "shift_x_px/shift_y_px": "whole-body translation in pixels, + = right / down",
            "present": "1 = person in frame, 0 = empty scene",
        },
        "reference": {
            "shoulder_width_px": _r(SHOULDER_WIDTH_PX),
            "lean_pivot_px": [_r(LEAN_PIVOT[0]), _r(LEAN_PIVOT[1])],
            "rest_nose_px": [_r(v) for v in _to_canvas(PHOTO_NOSE)],
            "rest_ears_px": [[_r(v) for v in _to_canvas(p)] for p in PHOTO_EARS],
            "rest_shoulders_px": [[_r(v) for v in _to_canvas(p)] for p in PHOTO_SHOULDERS],
        },
    }
    gt.update(spec.extra)
    tracks: dict[str, list[float]] = {"t_s": [_r(v) for v in spec.t]}
    for k in TRACKS:
        tracks[k] = [_r(v) for v in spec.tracks[k]]
    gt["tracks"] = tracks
    return gt


def dump_ground_truth(gt: dict[str, Any]) -> str:
    """Deterministic JSON: indented, but each per-frame track on one line."""
    tracks = gt["tracks"]
    head = {k: v for k, v in gt.items() if k != "tracks"}
    text = json.dumps(head, indent=2, ensure_ascii=True)
    lines = [f'    "{k}": {json.dumps(v, separators=(",", ":"))}' for k, v in tracks.items()]
    text = text[:-2] + ',\n  "tracks": {\n' + ",\n".join(lines) + "\n  }\n}\n"
    return text


# --------------------------------------------------------------------------
# Renderer
# --------------------------------------------------------------------------
def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    s = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return s * s * (3 - 2 * s)


class Renderer:
    def __init__(self) -> None:
        photo = cv2.imread(str(photo_path()), cv2.IMREAD_COLOR)
        if photo is None:
            raise FileNotFoundError(photo_path())
        a = np.array(
            [
                [PHOTO_SCALE, 0, PHOTO_OFFSET[0] + MARGIN],
                [0, PHOTO_SCALE, PHOTO_OFFSET[1] + MARGIN],
            ],
            np.float64,
        )
        sw, sh = WIDTH + 2 * MARGIN, HEIGHT + 2 * MARGIN
        person = cv2.warpAffine(
            photo, a, (sw, sh), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT_101
        )
        poly = np.array(
            [
                [
                    PHOTO_SCALE * x + PHOTO_OFFSET[0] + MARGIN,
                    PHOTO_SCALE * y + PHOTO_OFFSET[1] + MARGIN,
                ]
                for x, y in SILHOUETTE
            ]
        )
        mask = np.zeros((sh, sw), np.uint8)
        cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        soft = cv2.GaussianBlur(mask, (0, 0), 1.2)
        self.person = np.dstack([person, soft])  # BGRA source, canvas + MARGIN offset
        self.background = np.clip(self._background(photo, poly - MARGIN) + 0.5, 0, 255).astype(
            np.uint8
        )
        # Sensor noise bank (deterministic), stored as uint8 offset by +128.
        rng = np.random.default_rng([SEED, 999])
        self.noise = [
            np.clip(np.round(rng.normal(128.0, 2.0, (HEIGHT, WIDTH, 3))), 0, 255).astype(np.uint8)
            for _ in range(12)
        ]
        # Grid on which the inverse warp is solved (positions compatible with
        # cv2.resize INTER_LINEAR upsampling by MAP_STEP).
        # One extra grid point on each side avoids resize's edge clamping.
        gx = (np.arange(-1, WIDTH // MAP_STEP + 1) + 0.5) * MAP_STEP - 0.5
        gy = (np.arange(-1, HEIGHT // MAP_STEP + 1) + 0.5) * MAP_STEP - 0.5
        self.gx, self.gy = (g.astype(np.float32) for g in np.meshgrid(gx, gy))
        self._warm: tuple[Pose, Arr, Arr] | None = None

    @staticmethod
    def _background(photo: np.ndarray, poly: np.ndarray) -> np.ndarray:
        """The empty scene: the photo with the person removed (each masked row
        filled from its left neighbour -- the flag's horizontal stripes -- to its
        right neighbour -- the blue wall), extended to the canvas by mirroring
        and progressively blurred away from the photo."""
        h, w = photo.shape[:2]
        pts = (poly - np.array(PHOTO_OFFSET)) / PHOTO_SCALE  # back to photo coords
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)
        inside = cv2.dilate(mask, np.ones((9, 9), np.uint8)) > 0
        src = photo.astype(np.float32)
        fill = src.copy()
        xs = np.arange(w, dtype=np.float32)
        rows = [y for y in range(h) if inside[y].any()]
        spans = {
            y: (int(np.flatnonzero(inside[y])[0]), int(np.flatnonzero(inside[y])[-1])) for y in rows
        }
        # Colour just left / right of the person on every row (carried over
        # from the row above where the person touches the photo border).
        left = np.zeros((h, 3), np.float32)
        right = np.zeros((h, 3), np.float32)
        lc = rc = None
        for y in rows:
            xl, xr = spans[y]
            if xl >= 3:
                lc = src[y, max(0, xl - 6) : xl - 1].mean(axis=0)
            if xr <= w - 4:
                rc = np.median(src[y, xr + 2 : min(w, xr + 12)], axis=0)
            left[y] = lc if lc is not None else rc
            right[y] = rc if rc is not None else lc
        # the wall is smooth: remove row-to-row streaks; keep the flag stripes
        right_s = cv2.GaussianBlur(right[:, None, :], (1, 0), sigmaX=0.1, sigmaY=6.0)[:, 0, :]
        for y in rows:
            xl, xr = spans[y]
            t = _smoothstep(BG_SPLIT_X - 45.0, BG_SPLIT_X + 45.0, xs[xl : xr + 1])[:, None]
            fill[y, xl : xr + 1] = left[y] * (1 - t) + right_s[y] * t
        fill_s = cv2.GaussianBlur(fill, (0, 0), sigmaX=6.0, sigmaY=1.2)
        wm = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 2.0)[..., None]
        clean = src * (1 - wm) + fill_s * wm
        a = np.array(
            [[PHOTO_SCALE, 0, PHOTO_OFFSET[0]], [0, PHOTO_SCALE, PHOTO_OFFSET[1]]], np.float64
        )
        bg = cv2.warpAffine(
            clean, a, (WIDTH, HEIGHT), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT_101
        )
        # Outside the photo: blend towards a blurred version (out-of-focus wall).
        x0, x1 = PHOTO_OFFSET[0], PHOTO_OFFSET[0] + PHOTO_SCALE * w
        y0, y1 = PHOTO_OFFSET[1], PHOTO_OFFSET[1] + PHOTO_SCALE * h
        gx = np.arange(WIDTH, dtype=np.float32)[None, :]
        gy = np.arange(HEIGHT, dtype=np.float32)[:, None]
        dist = np.maximum(
            np.maximum(np.maximum(x0 - gx, gx - x1), np.maximum(y0 - gy, gy - y1)), 0.0
        )
        wb = np.clip(dist / 30.0, 0.0, 1.0)[..., None]
        blurred = cv2.GaussianBlur(bg, (0, 0), 3.0)
        out: Arr = bg * (1 - wb) + blurred * wb
        return out

    # -- warp model ---------------------------------------------------------
    @staticmethod
    def _head_weight(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = np.hypot((x - HEAD_C[0]) / HEAD_R[0], (y - HEAD_C[1]) / HEAD_R[1])
        return 1.0 - _smoothstep(HEAD_FALLOFF[0], HEAD_FALLOFF[1], r)

    @staticmethod
    def _depth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        q = 1.0 - ((x - HEAD_C[0]) / HEAD_R[0]) ** 2 - ((y - EAR_Y) / HEAD_R[1]) ** 2
        z = FACE_DEPTH * np.clip(q, 0.0, None)  # paraboloid: finite slope at the rim
        z += NOSE_DEPTH * np.exp(
            -0.5
            * (
                ((x - NOSE_TIP[0]) / NOSE_SIGMA[0]) ** 2
                + ((y - NOSE_TIP[1] + 6) / NOSE_SIGMA[1]) ** 2
            )
        )
        return z

    @classmethod
    def local_displacement(cls, x: Arr, y: Arr, p: Pose) -> tuple[Arr, Arr]:
        """Displacement of rest-pose canvas point (x, y) by the local
        (non-rigid) part of the pose: head and shoulders."""
        sw = SHOULDER_WIDTH_PX
        wh = cls._head_weight(x, y)
        # head: pitch (3-D rotation about the ear axis), scale, drop
        th = math.radians(p["head_pitch"])
        if th != 0.0:
            yr = EAR_Y + (y - EAR_Y) * math.cos(th) + cls._depth(x, y) * math.sin(th)
        else:
            yr = y
        s = p["head_scale"]
        xh = HEAD_SCALE_CENTRE[0] + (x - HEAD_SCALE_CENTRE[0]) * s
        yh = HEAD_SCALE_CENTRE[1] + (yr - HEAD_SCALE_CENTRE[1]) * s + p["head_drop"] * sw
        g = math.radians(p["head_roll"])
        if g != 0.0:  # tilt about the base of the neck
            ux, uy = xh - HEAD_ROLL_CENTRE[0], yh - HEAD_ROLL_CENTRE[1]
            xh = HEAD_ROLL_CENTRE[0] + math.cos(g) * ux - math.sin(g) * uy
            yh = HEAD_ROLL_CENTRE[1] + math.sin(g) * ux + math.cos(g) * uy
        dx = wh * (xh - x)
        dy = wh * (yh - y)
        # shoulders / arms
        body = 1.0 - wh
        wr = _smoothstep(SIDE_RAMP[0], SIDE_RAMP[1], x - BODY_CX) * body
        wl = _smoothstep(SIDE_RAMP[0], SIDE_RAMP[1], BODY_CX - x) * body
        lift = p["chest_lift"] + p["breath"]
        narrow = p["shoulder_narrow"]
        inward = 0.5 * narrow * sw - 0.25 * lift * sw
        down = 0.15 * narrow * sw - 0.3 * lift * sw
        dx += (wl - wr) * inward
        dy += (wl + wr) * down
        # chest up (whole body below the head) for the lift
        dy += body * (-0.12 * lift * sw)
        # lateral lean: the spine bends -- everything from the shoulders up
        # rotates by the full lean about the hip pivot, the lower torso less
        # (the hips stay put).  The shoulder line therefore rolls by lean_deg.
        lean = math.radians(p["lean_deg"])
        if lean != 0.0:
            b = lean * (1.0 - _smoothstep(BEND_Y[0], BEND_Y[1], y))
            px, py = x + dx - LEAN_PIVOT[0], y + dy - LEAN_PIVOT[1]
            cb, sb = np.cos(b), np.sin(b)
            dx += (cb * px - sb * py) - px
            dy += (sb * px + cb * py) - py
        return dx, dy

    def inverse_map(self, p: Pose) -> tuple[Arr, Arr]:
        """For every output pixel, the rest-pose canvas position it shows."""
        # solve x + D(x) = q - shift (Newton with finite-difference Jacobian),
        # starting from the rigid inverse of the lean rotation.
        x0 = self.gx - p["shift_x_px"]
        y0 = self.gy - p["shift_y_px"]
        if self._warm is not None and all(
            abs(p[k] - self._warm[0][k]) <= WARM_TOL[k] for k in WARM_TOL
        ):
            # consecutive frames move little: start from the previous solution
            x, y = self._warm[1], self._warm[2]
        else:
            a = math.radians(p["lean_deg"])
            ca, sa = math.cos(a), math.sin(a)
            qx, qy = x0 - LEAN_PIVOT[0], y0 - LEAN_PIVOT[1]
            x = ca * qx + sa * qy + LEAN_PIVOT[0]
            y = -sa * qx + ca * qy + LEAN_PIVOT[1]
        h = 0.5
        for _ in range(8):
            dx, dy = self.local_displacement(x, y, p)
            fx, fy = x + dx - x0, y + dy - y0
            if max(np.abs(fx).max(), np.abs(fy).max()) < 0.05:
                break
            dxx, dyx = self.local_displacement(x + h, y, p)
            dxy, dyy = self.local_displacement(x, y + h, p)
            j11 = 1 + (dxx - dx) / h
            j21 = (dyx - dy) / h
            j12 = (dxy - dx) / h
            j22 = 1 + (dyy - dy) / h
            det = j11 * j22 - j12 * j21
            det = np.where(np.abs(det) < 0.05, 0.05, det)
            x = x - (j22 * fx - j12 * fy) / det
            y = y - (-j21 * fx + j11 * fy) / det
        self._warm = (dict(p), x, y)
        size = (self.gx.shape[1] * MAP_STEP, self.gx.shape[0] * MAP_STEP)
        c = slice(MAP_STEP, MAP_STEP + HEIGHT), slice(MAP_STEP, MAP_STEP + WIDTH)
        mx = cv2.resize((x + MARGIN).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)[c]
        my = cv2.resize((y + MARGIN).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)[c]
        return mx, my

    def render(self, p: Pose, noise_index: int, gain: float) -> Arr:
        if p["present"] >= 0.5:
            mx, my = self.inverse_map(p)
            fg = cv2.remap(
                self.person, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
            )
            alpha = fg[..., 3].astype(np.float32) * (1.0 / 255.0)
            img = cv2.blendLinear(
                np.ascontiguousarray(fg[..., :3]), self.background, alpha, 1.0 - alpha
            )
        else:
            img = self.background
        # gain flicker + sensor noise (noise stored offset by +128)
        return cv2.addWeighted(img, gain, self.noise[noise_index], 1.0, -128.0, dtype=cv2.CV_8U)


_RENDERER: Renderer | None = None


def _renderer() -> Renderer:
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = Renderer()
    return _RENDERER


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------
def render_frames(name: str) -> Iterator[tuple[int, Arr]]:
    """Yield (index, BGR frame) for a clip."""
    spec = clip_spec(name)
    r = _renderer()
    r._warm = None
    rng = np.random.default_rng([SEED, CLIP_NAMES.index(name), 7])
    n = len(spec.t)
    noise_idx = rng.integers(0, len(r.noise), size=n)
    gains = 1.0 + rng.normal(0.0, 0.004, size=n)
    for i in range(n):
        p = {k: float(spec.tracks[k][i]) for k in TRACKS}
        yield i, r.render(p, int(noise_idx[i]), float(gains[i]))


def build_clip(
    name: str, out_dir: str | os.PathLike[str] = DEFAULT_OUT, force: bool = False
) -> Path:
    """Build NAME.mp4 and NAME.json in out_dir; returns the video path.
    Skips rendering when the video exists and the ground truth is unchanged."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video = out / f"{name}.mp4"
    gt_path = out / f"{name}.json"
    text = dump_ground_truth(clip_ground_truth(name))
    if (
        not force
        and video.exists()
        and video.stat().st_size > 0
        and gt_path.exists()
        and gt_path.read_text(encoding="utf-8") == text
    ):
        return video
    tmp = out / f".{name}.tmp.mp4"
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*FOURCC), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"cannot open video writer for {tmp}")
    try:
        for _, frame in render_frames(name):
            writer.write(frame)
    finally:
        writer.release()
    os.replace(tmp, video)
    if not gt_path.exists() or gt_path.read_text(encoding="utf-8") != text:
        gt_path.write_text(text, encoding="utf-8")
    return video


def _build_one(args: tuple[str, str, bool]) -> tuple[str, str, float]:
    name, out, force = args
    t0 = time.perf_counter()
    path = build_clip(name, out, force)
    return name, str(path), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out", default=str(DEFAULT_OUT), help="output directory (default: sample_videos/)"
    )
    ap.add_argument(
        "--only", choices=CLIP_NAMES, action="append", help="build only this clip (repeatable)"
    )
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    ap.add_argument(
        "--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="parallel processes"
    )
    args = ap.parse_args(argv)
    names = args.only or list(CLIP_NAMES)
    # longest first for better packing
    names.sort(key=lambda n: -len(clip_spec(n).t))
    t0 = time.perf_counter()
    jobs = [(n, args.out, args.force) for n in names]
    if args.jobs > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(min(args.jobs, len(jobs))) as pool:
            results = pool.map(_build_one, jobs, chunksize=1)
    else:
        results = [_build_one(j) for j in jobs]
    for name, path, dt in sorted(results, key=lambda r: CLIP_NAMES.index(r[0])):
        print(f"{name:20s} {dt:6.1f}s  {path}")
    print(f"total {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
