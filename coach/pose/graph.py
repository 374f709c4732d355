"""BlazePose's detector-to-landmarks tracking in NumPy: anchors, decoding, regions, projection.

The two-model pose graph (a person detector, then a landmark model on a rotated crop that
follows the person from frame to frame) re-implemented from MediaPipe's published graph
settings (`pose_detector_graph.cc`, `pose_landmarks_detector_graph.cc`), so the coach can run
the same .tflite models on a plain TFLite runtime. Pixel work (crops) and inference stay in
`coach.pose.estimator`; everything here is arithmetic on arrays and is tested without a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

DETECTOR_INPUT_PX: Final = 224
# Input scaling the two models were trained with, pixel' = (pixel - mean) / std: the
# detector wants [-1, 1], the landmark model [0, 1].
DETECTOR_MEAN: Final = 127.5
DETECTOR_STD: Final = 127.5
LANDMARKS_STD: Final = 255.0
LANDMARKS_INPUT_PX: Final = 256
HEATMAP_PX: Final = 64
ANCHOR_COUNT: Final = 2254
LANDMARKS_TOTAL: Final = 39
"""33 body landmarks, then 2 auxiliary ones (hip centre, body scale) and 4 unused."""
BODY_LANDMARKS: Final = 33
AUX_CENTRE: Final = 33
AUX_SCALE: Final = 34

# SsdAnchorsCalculator settings of the pose detector.
_ANCHOR_STRIDES: Final = (8, 16, 32, 32, 32)
# Boxes overlapping more than this are merged (weighted non-maximum suppression).
NMS_IOU: Final = 0.3
# The region around a person is the alignment circle's square, grown by this for context.
ROI_SCALE: Final = 1.25
# The heatmap refines a landmark when its peak confidence in this window reaches the floor.
HEATMAP_KERNEL: Final = 7
HEATMAP_MIN_CONFIDENCE: Final = 0.5


@dataclass(frozen=True)
class Detection:
    """One person found by the detector, in normalised image coordinates."""

    score: float
    box: FloatArray
    """xmin, ymin, xmax, ymax."""
    keypoints: FloatArray
    """4 (x, y) pairs: hip centre, full-body scale point, shoulder centre, upper-body scale point."""


@dataclass(frozen=True)
class Region:
    """A square, rotated crop of the frame in pixels: where the landmark model looks."""

    centre_x_px: float
    centre_y_px: float
    size_px: float
    rotation_rad: float
    """Clockwise on screen (image y points down), 0 for an upright body."""

    def corners_px(self) -> FloatArray:
        """Top-left, top-right and bottom-left corners in the frame (for an affine warp)."""
        half = self.size_px / 2.0
        offsets = np.array([[-half, -half], [half, -half], [-half, half]], dtype=np.float64)
        return (offsets @ _rotation(self.rotation_rad).T + self._centre()).astype(np.float32)

    def bounds_px(self) -> tuple[float, float, float, float]:
        """Axis-aligned xmin, ymin, xmax, ymax of the unrotated square (MediaPipe's overlap)."""
        half = self.size_px / 2.0
        return (
            self.centre_x_px - half,
            self.centre_y_px - half,
            self.centre_x_px + half,
            self.centre_y_px + half,
        )

    def to_frame_px(self, crop_xy: FloatArray) -> FloatArray:
        """Map points normalised to the crop ([0, 1] across) to frame pixels."""
        offsets = (crop_xy.astype(np.float64) - 0.5) * self.size_px
        return (offsets @ _rotation(self.rotation_rad).T + self._centre()).astype(np.float32)

    def _centre(self) -> NDArray[np.float64]:
        return np.array([self.centre_x_px, self.centre_y_px], dtype=np.float64)


def _rotation(angle_rad: float) -> NDArray[np.float64]:
    cos, sin = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[cos, -sin], [sin, cos]], dtype=np.float64)


def ssd_anchors() -> FloatArray:
    """Anchor centres (x, y) of the pose detector, in the order its outputs come.

    Layers sharing a stride share a feature map and put two anchors per layer on each cell
    (aspect ratio 1 and the interpolated scale); all anchors have size 1 (fixed_anchor_size).
    """
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(_ANCHOR_STRIDES):
        stride = _ANCHOR_STRIDES[layer]
        same = sum(1 for s in _ANCHOR_STRIDES[layer:] if s == stride)
        per_cell = 2 * same
        cells = math.ceil(DETECTOR_INPUT_PX / stride)
        for row in range(cells):
            for col in range(cells):
                centre = ((col + 0.5) / cells, (row + 0.5) / cells)
                centres.extend([centre] * per_cell)
        layer += same
    return np.array(centres, dtype=np.float32)


def _sigmoid(values: FloatArray) -> FloatArray:
    # Clipped: logits of ±100 and beyond would overflow exp() for no change in the result.
    return (1.0 / (1.0 + np.exp(-np.clip(values, -80.0, 80.0)))).astype(np.float32)


def decode_detections(
    raw_boxes: FloatArray, raw_scores: FloatArray, anchors: FloatArray, min_score: float
) -> list[Detection]:
    """Turn the detector's raw outputs into scored boxes in the 224-px input's [0, 1] space."""
    scores = _sigmoid(raw_scores.reshape(-1))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    raw = raw_boxes.reshape(-1, 12)[keep] / DETECTOR_INPUT_PX
    centres = anchors[keep]
    box_centre = raw[:, 0:2] + centres
    half = raw[:, 2:4] / 2.0
    boxes = np.concatenate([box_centre - half, box_centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + centres[:, None, :]
    return weighted_nms(
        [Detection(float(scores[i]), boxes[n], keypoints[n]) for n, i in enumerate(keep.tolist())]
    )


def _iou(a: FloatArray, b: FloatArray) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = float(width * height)
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(detections: list[Detection], iou: float = NMS_IOU) -> list[Detection]:
    """Merge overlapping detections into their score-weighted mean (MediaPipe's WEIGHTED NMS)."""
    remaining = sorted(detections, key=lambda d: d.score, reverse=True)
    merged: list[Detection] = []
    while remaining:
        best = remaining[0]
        overlaps = [_iou(best.box, d.box) > iou for d in remaining]
        overlapping = [d for d, o in zip(remaining, overlaps, strict=True) if o]
        remaining = [d for d, o in zip(remaining, overlaps, strict=True) if not o]
        weights = np.array([d.score for d in overlapping], dtype=np.float32)
        weights /= weights.sum()
        box = np.tensordot(weights, np.stack([d.box for d in overlapping]), axes=1)
        keypoints = np.tensordot(weights, np.stack([d.keypoints for d in overlapping]), axes=1)
        merged.append(Detection(best.score, box.astype(np.float32), keypoints.astype(np.float32)))
    return merged


def letterbox(image_w_px: int, image_h_px: int, side_px: int) -> tuple[float, float, float]:
    """Scale and x, y offsets (pixels) that fit a frame into a square input, centred."""
    scale = min(side_px / image_w_px, side_px / image_h_px)
    return scale, (side_px - image_w_px * scale) / 2.0, (side_px - image_h_px * scale) / 2.0


def unletterbox(points: FloatArray, image_size: tuple[int, int], side_px: int) -> FloatArray:
    """Map points normalised to the square input back to normalised frame coordinates."""
    width, height = image_size
    scale, offset_x, offset_y = letterbox(width, height, side_px)
    out = points.astype(np.float32).copy()
    out[..., 0] = (points[..., 0] * side_px - offset_x) / (width * scale)
    out[..., 1] = (points[..., 1] * side_px - offset_y) / (height * scale)
    return out


def region_from_points(
    centre_xy: FloatArray, scale_xy: FloatArray, image_size: tuple[int, int]
) -> Region:
    """The crop that holds a body, from its centre and the point that gives size and tilt.

    AlignmentPointsRectsCalculator + RectTransformationCalculator: a square twice the
    centre-to-scale distance, turned so the centre-to-scale vector points up, then grown.
    """
    width, height = image_size
    x0, y0 = float(centre_xy[0]) * width, float(centre_xy[1]) * height
    x1, y1 = float(scale_xy[0]) * width, float(scale_xy[1]) * height
    size_px = 2.0 * math.hypot(x1 - x0, y1 - y0) * ROI_SCALE
    rotation = math.pi / 2.0 - math.atan2(-(y1 - y0), x1 - x0)
    rotation -= 2.0 * math.pi * math.floor((rotation + math.pi) / (2.0 * math.pi))
    return Region(x0, y0, size_px, rotation)


def region_overlap(a: Region, b: Region) -> float:
    """Intersection over union of the two regions' unrotated squares."""
    return _iou(
        np.array(a.bounds_px(), dtype=np.float32), np.array(b.bounds_px(), dtype=np.float32)
    )


def refine_from_heatmap(crop_xy: FloatArray, heatmap: FloatArray) -> FloatArray:
    """Move each landmark to the confidence-weighted centre of its heatmap window.

    RefineLandmarksFromHeatmapCalculator: a 7 by 7 window around the landmark's heatmap cell;
    only where the window's peak confidence reaches 0.5; landmarks outside are left alone.
    """
    size = heatmap.shape[0]
    offset = (HEATMAP_KERNEL - 1) // 2
    # All landmarks' windows at once (this runs on every analysed frame): cells off the
    # heatmap get no weight, as if the window were cut at its edge.
    cells = crop_xy * size
    cols = cells[:, 0].astype(np.int64)[:, None] + np.arange(-offset, offset + 1)
    rows = cells[:, 1].astype(np.int64)[:, None] + np.arange(-offset, offset + 1)
    on_map = ((rows >= 0) & (rows < size))[:, :, None] & ((cols >= 0) & (cols < size))[:, None, :]
    windows = heatmap[
        np.clip(rows, 0, size - 1)[:, :, None],
        np.clip(cols, 0, size - 1)[:, None, :],
        np.arange(crop_xy.shape[0])[:, None, None],
    ]
    confidence = np.where(on_map, _sigmoid(windows), 0.0).astype(np.float64)
    total = confidence.sum(axis=(1, 2))
    peak = confidence.max(axis=(1, 2))
    refine = on_map[:, offset, offset] & (peak >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    refined = crop_xy.copy()
    weight = np.where(refine, total, 1.0) * size
    x = (cols[:, None, :] * confidence).sum(axis=(1, 2)) / weight
    y = (rows[:, :, None] * confidence).sum(axis=(1, 2)) / weight
    refined[refine, 0] = x[refine]
    refined[refine, 1] = y[refine]
    return refined


@dataclass(frozen=True)
class LandmarkResult:
    """One landmark-model pass projected back onto the frame."""

    presence_score: float
    image_xyz: FloatArray
    """33 (x, y, z): x and y normalised to the frame, z on the x scale."""
    world_xyz: FloatArray
    """33 (x, y, z) in metres around the hips' centre."""
    visibility: FloatArray
    presence: FloatArray
    next_region: Region
    """Where to look in the next frame (from the auxiliary landmarks)."""


def decode_landmarks(
    raw_landmarks: FloatArray,
    presence_score: float,
    heatmap: FloatArray,
    raw_world: FloatArray,
    region: Region,
    image_size: tuple[int, int],
) -> LandmarkResult:
    """Project the landmark model's outputs for `region` onto the frame."""
    width, height = image_size
    raw = raw_landmarks.reshape(LANDMARKS_TOTAL, 5)
    crop_xy = (raw[:, 0:2] / LANDMARKS_INPUT_PX).astype(np.float32)
    crop_xy = refine_from_heatmap(crop_xy, heatmap.reshape(HEATMAP_PX, HEATMAP_PX, -1))
    frame_px = region.to_frame_px(crop_xy)
    normalised = frame_px / np.array([width, height], dtype=np.float32)
    z = raw[:, 2] / LANDMARKS_INPUT_PX * region.size_px / width
    image_xyz = np.column_stack([normalised, z]).astype(np.float32)

    world = raw_world.reshape(LANDMARKS_TOTAL, 3)[:BODY_LANDMARKS].astype(np.float64)
    world_xy = world[:, 0:2] @ _rotation(region.rotation_rad).T
    world_xyz = np.column_stack([world_xy, world[:, 2]]).astype(np.float32)

    next_region = region_from_points(
        image_xyz[AUX_CENTRE, 0:2], image_xyz[AUX_SCALE, 0:2], image_size
    )
    return LandmarkResult(
        presence_score=presence_score,
        image_xyz=image_xyz[:BODY_LANDMARKS],
        world_xyz=world_xyz,
        visibility=_sigmoid(raw[:BODY_LANDMARKS, 3]),
        presence=_sigmoid(raw[:BODY_LANDMARKS, 4]),
        next_region=next_region,
    )
