"""Tests coach.imaging against OpenCV (a dev dependency): the same pixels, the same landmarks."""

from __future__ import annotations

import ast
import math
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from coach import imaging
from coach.config import Config
from coach.imaging import (
    Border,
    affine_from_points,
    area_resize,
    bgr_to_grey,
    bgr_to_rgb,
    warp_affine,
)
from coach.pose.estimator import PoseEstimator
from coach.records import Frame, ImageArray, PoseSample
from coach.source.gate import thumbnail
from testkit import opencv_reference as reference
from testkit.opencv_reference import opencv_in_estimator
from tests.conftest import REPO, sample_clip

BORDERS = [Border.CONSTANT, Border.REPLICATE]


@cache
def clip_frames(name: str, count: int) -> tuple[ImageArray, ...]:
    """The first `count` frames of a sample clip, decoded by OpenCV."""
    capture = cv2.VideoCapture(str(sample_clip(name)))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        assert ok, f"{name} has fewer than {count} frames"
        frames.append(np.asarray(image, dtype=np.uint8))
    capture.release()
    return tuple(frames)


def real_frame() -> ImageArray:
    """A 640 x 480 frame of the neutral clip (a real photograph, composited)."""
    return clip_frames("neutral", 40)[-1]


def random_image(height: int, width: int, channels: int = 3, seed: int = 0) -> ImageArray:
    shape = (height, width, channels) if channels else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def images() -> list[tuple[str, ImageArray]]:
    """Noise (every edge sharp), odd sizes, and a real frame."""
    return [
        ("noise 480x640", random_image(480, 640)),
        ("noise 37x53", random_image(37, 53, seed=1)),
        ("real 480x640", real_frame()),
    ]


def largest_difference(ours: ImageArray, theirs: ImageArray) -> int:
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype == np.uint8
    return int(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max())


def square_corners(centre_xy: tuple[float, float], side_px: float, angle_rad: float) -> np.ndarray:
    """Top-left, top-right, bottom-left corners of a turned square (as Region.corners_px)."""
    half = side_px / 2.0
    cos, sin = math.cos(angle_rad), math.sin(angle_rad)
    offsets = np.array([[-half, -half], [half, -half], [-half, half]])
    rotation = np.array([[cos, -sin], [sin, cos]])
    return (offsets @ rotation.T + np.array(centre_xy)).astype(np.float32)


@pytest.mark.parametrize("shape", [(480, 640), (1, 1), (7, 13), (31, 2)])
def test_channel_swap_and_grey_are_opencvs_to_the_bit(shape: tuple[int, int]) -> None:
    for image in (random_image(*shape), real_frame()):
        rgb = bgr_to_rgb(image)
        assert rgb.flags.c_contiguous and rgb.dtype == np.uint8
        assert np.array_equal(rgb, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        grey = bgr_to_grey(image)
        assert grey.shape == image.shape[:2] and grey.dtype == np.uint8
        assert np.array_equal(grey, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    flat = random_image(5, 6, channels=0)
    assert np.array_equal(bgr_to_grey(flat), flat) and bgr_to_grey(flat) is not flat


SHRINKS = [
    *[(32, 24), (80, 60), (320, 240), (213, 160), (160, 480), (640, 240), (320, 480)],
    *[(333, 251), (639, 479), (17, 5), (1, 1)],
]


@pytest.mark.parametrize("size", SHRINKS, ids=[f"{w}x{h}" for w, h in SHRINKS])
def test_area_shrink_is_opencvs_to_the_bit(size: tuple[int, int]) -> None:
    # Whole blocks (20, 8, 2, 3; 4 x 1, 1 x 2, 2 x 1), boxes that repeat only over the whole
    # width, a single pixel.
    width, height = size
    for _, image in images():
        for picture in (image, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)):
            if width > picture.shape[1] or height > picture.shape[0]:
                continue
            ours = area_resize(picture, width, height)
            assert ours.shape == (height, width, *picture.shape[2:])
            assert np.array_equal(ours, reference.area_resize(picture, width, height))


def test_a_cameras_frame_shrinks_to_640_within_a_grey_level_of_opencv() -> None:
    # Boxes that repeat every few pixels (800 -> 640: 5 to 4) are summed exactly here, in
    # float32 by OpenCV: a pixel whose mean is a hair from a half may round the other way.
    frame = real_frame()
    for width, height in [(800, 600), (1024, 768), (1280, 720), (1920, 1080), (1000, 750)]:
        for image in (
            np.asarray(cv2.resize(frame, (width, height)), np.uint8),
            random_image(height, width),
        ):
            new_size = (640, round(height * 640 / width))
            ours = area_resize(image, *new_size)
            theirs = reference.area_resize(image, *new_size)
            assert largest_difference(ours, theirs) <= 1
            assert np.count_nonzero(ours != theirs) <= ours.size // 1000


GROWS = [(700, 300), (1000, 900), (641, 481), (90, 70)]


@pytest.mark.parametrize("size", GROWS, ids=[f"{w}x{h}" for w, h in GROWS])
def test_area_resize_growing_is_within_a_grey_level_of_opencv(size: tuple[int, int]) -> None:
    # OpenCV grows in 11-bit fixed point: rounding differs on a few pixels, by one level.
    width, height = size
    for _, image in images():
        ours = area_resize(image, width, height)
        assert largest_difference(ours, reference.area_resize(image, width, height)) <= 1


def test_area_resize_refuses_an_empty_size() -> None:
    with pytest.raises(ValueError, match="0 x 5"):
        area_resize(random_image(10, 10), 0, 5)


CROPS = [
    # centre, side (px), turn (rad): inside, partly outside every edge, turned, tiny and huge.
    ((320.0, 240.0), 300.0, 0.0),
    ((320.0, 260.0), 360.0, 0.2),
    ((20.0, 30.0), 200.0, -0.7),
    ((630.0, 470.0), 150.0, 2.5),
    ((320.0, 240.0), 900.0, 1.0),
    ((100.5, 400.25), 31.0, math.pi / 2),
    ((-200.0, 240.0), 100.0, 0.4),  # wholly outside
]


@pytest.mark.parametrize("border", BORDERS, ids=lambda b: b.name)
@pytest.mark.parametrize("crop", CROPS, ids=[f"crop{i}" for i in range(len(CROPS))])
def test_a_turned_crop_is_opencvs_to_the_bit(
    crop: tuple[tuple[float, float], float, float], border: Border
) -> None:
    centre, side, angle = crop
    for output_px in (256, 31):
        target = np.array([[0, 0], [output_px, 0], [0, output_px]], dtype=np.float32)
        corners = square_corners(centre, side, angle)
        matrix = affine_from_points(corners, target)
        assert np.array_equal(matrix, cv2.getAffineTransform(corners, target))
        for name, image in images():
            ours = warp_affine(image, matrix, output_px, border)
            assert ours.shape == (output_px, output_px, 3) and ours.dtype == np.uint8
            theirs = reference.warp_affine(image, matrix, output_px, border)
            assert np.array_equal(ours, theirs), name
            grey = np.ascontiguousarray(image[..., 1])
            assert np.array_equal(
                warp_affine(grey, matrix, output_px, border),
                reference.warp_affine(grey, matrix, output_px, border),
            )


def test_a_crop_wholly_outside_reads_the_border() -> None:
    image = real_frame()
    matrix = affine_from_points(
        square_corners((-500.0, -500.0), 100.0, 0.3), [[0, 0], [8, 0], [0, 8]]
    )
    assert not warp_affine(image, matrix, 8, Border.CONSTANT).any()
    assert (warp_affine(image, matrix, 8, Border.REPLICATE) == image[0, 0]).all()


def test_the_detectors_letterbox_is_opencvs_to_the_bit() -> None:
    # The float32 scale-and-shift matrix the estimator builds, black bands above and below.
    scale = 224 / 640
    matrix = np.array([[scale, 0.0, 0.0], [0.0, scale, (224 - 480 * scale) / 2]], np.float32)
    for _, image in images():
        ours = warp_affine(image, matrix, 224, Border.CONSTANT)
        assert np.array_equal(ours, reference.warp_affine(image, matrix, 224, Border.CONSTANT))


def test_the_affine_map_is_opencvs_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        src = rng.uniform(-300, 900, (3, 2)).astype(np.float32)
        dst = rng.uniform(-10, 300, (3, 2)).astype(np.float32)
        ours = affine_from_points(src, dst)
        assert ours.shape == (2, 3) and ours.dtype == np.float64
        assert np.array_equal(ours, cv2.getAffineTransform(src, dst))
        mapped = np.hstack([src.astype(np.float64), np.ones((3, 1))]) @ ours.T
        assert mapped == pytest.approx(dst.astype(np.float64), abs=1e-6)
    on_a_line = np.array([[0, 0], [1, 1], [2, 2]], dtype=np.float32)
    assert not affine_from_points(on_a_line, dst).any()  # as OpenCV: all zeros


def test_the_gates_thumbnail_is_within_a_grey_level_of_opencvs() -> None:
    # Shrunk before greyed (cheaper); the old order differs only in rounding.
    for _, image in images():
        height, width = image.shape[:2]
        size = (max(width // 8, 1), max(height // 8, 1))
        old = cv2.resize(
            cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), size, interpolation=cv2.INTER_AREA
        )
        assert largest_difference(thumbnail(image), old) <= 1
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        assert np.array_equal(thumbnail(grey), cv2.resize(grey, size, interpolation=cv2.INTER_AREA))


def estimated(frames: tuple[ImageArray, ...], model_path: Path) -> list[PoseSample]:
    with PoseEstimator(model_path, Config().pose) as estimator:
        return [
            estimator.estimate(Frame(image=image, t_s=i / 15.0, index=i))
            for i, image in enumerate(frames)
        ]


def test_the_real_model_finds_the_same_landmarks_as_on_opencvs_crops(model_path: Path) -> None:
    # 800 x 600: the estimator shrinks it to 640 x 480 (fractional boxes), then crops.
    frames = tuple(
        np.asarray(cv2.resize(image, (800, 600), interpolation=cv2.INTER_LINEAR), np.uint8)
        for image in clip_frames("cat_cow", 30)
    )
    ours = estimated(frames, model_path)
    with opencv_in_estimator():
        theirs = estimated(frames, model_path)
    assert sum(sample.pose is not None for sample in ours) >= 25  # someone is tracked
    for mine, old in zip(ours, theirs, strict=True):
        assert (mine.tracking, mine.people) == (old.tracking, old.people)
        assert mine.brightness == pytest.approx(old.brightness, abs=0.05)
        if mine.pose is not None and old.pose is not None:
            assert mine.pose.image_xyz == pytest.approx(old.pose.image_xyz, abs=1e-4)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "module", ["coach/imaging.py", "coach/pose/estimator.py", "coach/source/gate.py"]
)
def test_the_pixel_work_does_not_import_opencv(module: str) -> None:
    assert not any(name.split(".")[0] == "cv2" for name in imported_modules(REPO / module))


def test_imaging_needs_nothing_from_coach_but_its_records() -> None:
    ours = {name for name in imported_modules(Path(imaging.__file__)) if name.startswith("coach")}
    assert ours == {"coach.records"}
