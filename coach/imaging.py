"""Provides the few pixel operations the coach needs (channel swaps, grey, area resize, affine warp) in NumPy."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from coach.records import ImageArray

Matrix = npt.NDArray[np.float64]
_Float32 = npt.NDArray[np.float32]
_Index = npt.NDArray[np.intp]
# Along one axis of a warp: the lower and the upper neighbour of every output pixel, each with
# its weight.
_Taps = tuple[tuple[_Index, _Float32], tuple[_Index, _Float32]]

# OpenCV's BGR2GRAY weights for 8-bit images in 15-bit fixed point (0.299 R, 0.587 G,
# 0.114 B), so that a grey level here is the one OpenCV gives, to the bit.
_GREY_B: Final = 3735
_GREY_G: Final = 19235
_GREY_R: Final = 9798
_GREY_SHIFT: Final = 15
# cv2.warpAffine samples the source on a 1/32-pixel grid, reached in 1/1024-pixel fixed point;
# doing the same gives the model OpenCV's crops to the bit (on a sharp edge a 1/32-pixel shift
# alone is 8 grey levels).
_SUBPIXEL_BITS: Final = 5
_AB_BITS: Final = 10
_AB_SCALE: Final = 1 << _AB_BITS
# Output rows worked at a time by the warp and the shrink, so their arrays stay in cache.
_WARP_BAND_ROWS: Final = 32
# A shrink whose boxes repeat every this many source pixels or fewer (800 -> 640: every 5)
# runs as two matrix products; a longer period (1366 -> 640: 683) takes one tap at a time.
_MAX_PERIOD: Final = 64
# OpenCV's threshold under which a pivot makes the system singular (DBL_EPSILON * 100).
_SINGULAR: Final = float(np.finfo(np.float64).eps) * 100


class Border(Enum):
    """What a warp reads outside the source image."""

    CONSTANT = "constant"  # black (0)
    REPLICATE = "replicate"  # the nearest edge pixel


def bgr_to_rgb(image: ImageArray) -> ImageArray:
    """The image with its first and last channels swapped (a new contiguous array)."""
    out = np.empty_like(image)
    out[..., 0] = image[..., 2]  # channel by channel: several times faster than [..., ::-1]
    out[..., 1] = image[..., 1]
    out[..., 2] = image[..., 0]
    return out


def bgr_to_grey(image: ImageArray) -> ImageArray:
    """One grey channel from a BGR image: 0.299 R + 0.587 G + 0.114 B, rounded like OpenCV."""
    if image.ndim == 2:
        return image.copy()
    grey = np.multiply(image[..., 0], np.uint32(_GREY_B), dtype=np.uint32)
    grey += np.multiply(image[..., 1], np.uint32(_GREY_G), dtype=np.uint32)
    grey += np.multiply(image[..., 2], np.uint32(_GREY_R), dtype=np.uint32)
    grey += 1 << (_GREY_SHIFT - 1)
    grey >>= _GREY_SHIFT
    return grey.astype(np.uint8)


def area_resize(image: ImageArray, width_px: int, height_px: int) -> ImageArray:
    """The image at a new size, as cv2.resize with INTER_AREA.

    Shrinking averages the source pixels each output pixel covers, counting those it covers in
    part by the fraction covered: OpenCV's pixels to the bit for whole blocks (640 -> 32,
    1280 -> 640), within a grey level otherwise (exact fractions here, float32 in OpenCV).
    Growing either way interpolates between neighbours, within a grey level of OpenCV too.
    """
    if width_px < 1 or height_px < 1:
        raise ValueError(f"cannot resize to {width_px} x {height_px} pixels")
    height, width = image.shape[:2]
    if (width, height) == (width_px, height_px):
        return image.copy()
    scale_x, scale_y = 1.0 / (width_px / width), 1.0 / (height_px / height)
    if scale_x < 1 or scale_y < 1:
        rows = _resample(image, _growing_taps(height, height_px), axis=0)
        return _to_uint8(_resample(rows, _growing_taps(width, width_px), axis=1))
    down, across = _period_overlaps(height, height_px), _period_overlaps(width, width_px)
    if down is None or across is None:
        # Boxes that repeat only over hundreds of pixels: OpenCV's tables, one tap at a time,
        # columns then rows in its order (its float32 sums, so its pixels, but slowly).
        columns = _resample(image, _box_taps(width, width_px, scale_x), axis=1)
        return _to_uint8(_resample(columns, _box_taps(height, height_px, scale_y), axis=0))
    out = np.empty((height_px, width_px, *image.shape[2:]), dtype=np.uint8)
    # Bands of about 32 output rows (whole periods): their arrays stay in the CPU cache.
    rows_out, rows_in = down.shape
    periods = max(1, _WARP_BAND_ROWS // rows_out)
    for first in range(0, height // rows_in, periods):
        source = slice(first * rows_in, (first + periods) * rows_in)
        band = slice(first * rows_out, (first + periods) * rows_out)
        out[band] = _box_mean(_periodic_sums(image[source], down, across), down, across)
    return out


def _box_mean(sums: _Float32, down: _Float32, across: _Float32) -> ImageArray:
    """Box sums (weighted by overlap) to mean grey levels, rounded as OpenCV rounds them."""
    area = down.shape[1] * across.shape[1]
    if down.shape[0] == across.shape[0] == 1:
        # Whole blocks, rounded as OpenCV's fast path rounds them (to the bit; 2 x 2 blocks
        # take its vector code, which rounds halves up).
        if down.shape[1] == across.shape[1] == 2:
            return np.asarray(np.floor((sums + 2) * np.float32(0.25)), dtype=np.uint8)
        return _to_uint8(sums * np.float32(1 / area))
    return _to_uint8(sums / np.float32(area))


def _period_overlaps(size: int, new_size: int) -> _Float32 | None:
    """Shrinking along one axis by q / p (in lowest terms): how much of each of q source pixels
    each of p output pixels covers, in 1/p pixels (whole numbers); the same every q pixels.

    None when q is so large that a product over it would cost more than it saves.
    """
    common = math.gcd(size, new_size)
    source, output = size // common, new_size // common
    if source > _MAX_PERIOD:
        return None
    box = np.arange(output)[:, None]
    pixel = np.arange(source)[None, :]
    covered = np.minimum((box + 1) * source, (pixel + 1) * output) - np.maximum(
        box * source, pixel * output
    )
    return np.asarray(np.maximum(covered, 0), dtype=np.float32)


def _periodic_sums(image: ImageArray, down: _Float32, across: _Float32) -> _Float32:
    """Each output pixel's box sum, weighted by overlap, as two matrix products (BLAS).

    Whole-number weights and sums under 2**24: exact in float32 in any order of summing.
    """
    height, width = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    (rows_out, rows_in), (columns_out, columns_in) = down.shape, across.shape
    if rows_out == 1:
        # Whole blocks down: add rows, converting only as they are added (a big frame's float
        # copy would cost more than the sum).
        sums = image[0::rows_in].astype(np.float32)
        for row in range(1, rows_in):
            sums += image[row::rows_in]
    else:
        pixels = image.reshape(height // rows_in, rows_in, width * channels).astype(np.float32)
        sums = np.matmul(down, pixels)
    new_height = height // rows_in * rows_out
    groups = sums.reshape(new_height, width // columns_in, columns_in * channels)
    # Per group of columns_in pixels: (columns_in x channels) -> (columns_out x channels). One
    # small product per row: a single big one would start BLAS threads, which stall for tens
    # of milliseconds when the cores are busy.
    kernel = np.kron(across.T, np.eye(channels, dtype=np.float32))
    new_width = width // columns_in * columns_out
    out: _Float32 = np.matmul(groups, kernel).reshape(new_height, new_width, *image.shape[2:])
    return out


def _box_taps(size: int, new_size: int, scale: float) -> list[tuple[_Index, _Float32]]:
    """Shrinking along one axis: each output pixel's source pixels and weights, in order.

    OpenCV's table (computeResizeAreaTab): a first pixel covered in part, the whole ones,
    a last one in part, each weighted by the part covered; slivers under 1/1000 are skipped.
    Tap k is the k-th of these for every output pixel (weight 0 where it has fewer).
    """
    start = np.arange(new_size, dtype=np.float64) * scale
    end = start + scale
    cell = np.minimum(scale, size - start)
    last = np.minimum(np.floor(end), size - 1).astype(np.intp)
    first = np.minimum(np.ceil(start).astype(np.intp), last)
    head = (first - start) > 1e-3
    tail = (end - last) > 1e-3
    taps = [(np.maximum(first - 1, 0), np.where(head, (first - start) / cell, 0.0))]
    for k in range(int((last - first).max())):
        inside = first + k < last
        taps.append((np.minimum(first + k, size - 1), np.where(inside, 1.0 / cell, 0.0)))
    tail_weight = np.minimum(np.minimum(end - last, 1.0), cell) / cell
    taps.append((last, np.where(tail, tail_weight, 0.0)))
    return [(index, weight.astype(np.float32)) for index, weight in taps]


def _growing_taps(size: int, new_size: int) -> list[tuple[_Index, _Float32]]:
    """cv2.resize's INTER_AREA taps when either axis grows: a source pixel and the next.

    Each output pixel copies its source pixel, blending with the next only where a source
    pixel's edge falls inside it (OpenCV uses these taps along a shrinking axis too).
    """
    scale = size / new_size
    out = np.arange(new_size, dtype=np.float64)
    first = np.floor(out * scale)
    weight = (out + 1) - (first + 1) / scale
    weight = np.where(weight <= 0, 0.0, weight - np.floor(weight))
    lower = np.clip(first.astype(np.intp), 0, size - 1)
    upper = np.minimum(lower + 1, size - 1)
    next_weight = weight.astype(np.float32)
    return [(lower, 1 - next_weight), (upper, next_weight)]


def _resample(pixels: npt.NDArray[Any], taps: list[tuple[_Index, _Float32]], axis: int) -> _Float32:
    """The weighted sums of source pixels along one axis (0: rows, 1: columns), as float32."""
    inside = pixels.shape[axis + 1 :]
    out: _Float32 | None = None
    for index, weight in taps:
        if axis == 0:
            expanded = weight.reshape(-1, *(1 for _ in inside))
        else:
            # Repeated over the channels, so the product runs contiguously (several times faster).
            expanded = np.repeat(weight, int(np.prod(inside))).reshape(-1, *inside)
        term = np.take(pixels, index, axis=axis) * expanded
        out = term if out is None else out + term
    assert out is not None  # at least one tap
    return out


def affine_from_points(src_xy: npt.ArrayLike, dst_xy: npt.ArrayLike) -> Matrix:
    """The 2 x 3 affine map taking three source points onto three destination points.

    As cv2.getAffineTransform, to the bit (the same elimination in the same order), so a crop
    is OpenCV's exactly; all zeros when the source points lie on one line, as OpenCV gives.
    """
    src = np.asarray(src_xy, dtype=np.float64).reshape(3, 2).tolist()
    dst = np.asarray(dst_xy, dtype=np.float64).reshape(3, 2).tolist()
    # The 6 x 6 system of the six unknowns, rows for x and y interleaved as OpenCV lays it out.
    a: list[list[float]] = []
    b: list[float] = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a += [[x, y, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, x, y, 1.0]]
        b += [u, v]
    solved = _lu_solve(a, b)
    if solved is None:
        return np.zeros((2, 3), dtype=np.float64)
    return np.array(solved, dtype=np.float64).reshape(2, 3)


def _lu_solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting, OpenCV's LU step for step (None if singular)."""
    size = len(b)
    for i in range(size):
        pivot = max(range(i, size), key=lambda row: (abs(a[row][i]), -row))
        if abs(a[pivot][i]) < _SINGULAR:
            return None
        a[i], a[pivot] = a[pivot], a[i]
        b[i], b[pivot] = b[pivot], b[i]
        scale = -1.0 / a[i][i]
        for j in range(i + 1, size):
            alpha = a[j][i] * scale
            if alpha == 0.0:
                continue  # adds nothing (x + 0 * y == x)
            for k in range(i + 1, size):
                a[j][k] += alpha * a[i][k]
            b[j] += alpha * b[i]
    for i in reversed(range(size)):
        total = b[i]
        for k in range(i + 1, size):
            total -= a[i][k] * b[k]
        b[i] = total / a[i][i]
    return b


def warp_affine(
    image: ImageArray, matrix: npt.ArrayLike, side_px: int, border: Border
) -> ImageArray:
    """A side_px-square image through the 2 x 3 affine map `matrix` (source to destination).

    As cv2.warpAffine with INTER_LINEAR, to the bit: each output pixel reads the source where
    the inverse map sends it, bilinear on a 1/32-pixel grid; outside the source it reads
    `border`. A singular map reads the top-left pixel everywhere, as OpenCV does.
    """
    inverse = _inverse(np.asarray(matrix, dtype=np.float64).reshape(2, 3))
    height, width = image.shape[:2]
    source, channels = _gatherable(image)
    x_parts, y_parts = _fixed_point(inverse[0], side_px), _fixed_point(inverse[1], side_px)
    out = np.empty((side_px, side_px, channels), dtype=np.uint8)
    # A band of rows at a time: its arrays stay in the CPU cache (twice as fast as all at once).
    for top in range(0, side_px, _WARP_BAND_ROWS):
        band = slice(top, min(side_px, top + _WARP_BAND_ROWS))
        columns = _axis_taps(_steps(x_parts, band), width, border)
        rows = _axis_taps(_steps(y_parts, band), height, border)
        out[band] = _bilinear(source, width, rows, columns, channels).reshape(-1, side_px, channels)
    return out.reshape((side_px, side_px, *image.shape[2:]))


def _bilinear(
    source: npt.NDArray[Any],
    width: int,
    rows: _Taps,
    columns: _Taps,
    channels: int,
) -> ImageArray:
    """Pixels from their four neighbours (flat, channels last), rounded as OpenCV rounds."""
    count = rows[0][0].size
    # Weights in 1/1024ths as float32 integers: the sums are exact, and round as OpenCV's do.
    planes = [np.zeros(count, dtype=np.float32) for _ in range(channels)]
    for row, row_weight in rows:
        for column, column_weight in columns:
            weight = row_weight * column_weight
            values = np.take(source, row * width + column, axis=0).view(np.uint8)
            values = values.reshape(count, -1)
            for channel, plane in enumerate(planes):
                plane += values[:, channel] * weight
    half = np.float32(1 << (2 * _SUBPIXEL_BITS - 1))
    scale = np.float32(1 / (1 << (2 * _SUBPIXEL_BITS)))
    return np.stack([np.floor((plane + half) * scale).astype(np.uint8) for plane in planes], -1)


def _gatherable(image: ImageArray) -> tuple[npt.NDArray[Any], int]:
    """The pixels as a 1-D array to gather whole pixels from, and the number of channels.

    A 3-channel image is read as one 4-byte word per pixel (its three bytes and the next
    pixel's first): gathering words is several times faster than gathering 3-byte rows.
    """
    channels = image.shape[2] if image.ndim == 3 else 1
    flat = np.ascontiguousarray(image).reshape(-1)
    count = flat.size // channels
    if channels != 3 or count < 2:
        return flat.reshape(count, channels), channels
    words = np.empty(count, dtype=np.uint32)
    words[:-1] = np.ndarray((count - 1,), dtype=np.uint32, buffer=flat, strides=(3,))
    words.view(np.uint8)[-4:-1] = flat[-3:]  # the last pixel has no next one to borrow from
    return words, channels


def _axis_taps(steps: _Index, size: int, border: Border) -> _Taps:
    """Along one axis: the two neighbours each output pixel reads, and their weights in 1/32ths."""
    lower = steps >> _SUBPIXEL_BITS
    upper = lower + 1
    upper_weight = (steps & ((1 << _SUBPIXEL_BITS) - 1)).astype(np.float32)
    lower_weight = (1 << _SUBPIXEL_BITS) - upper_weight
    if border is Border.CONSTANT:
        # A neighbour outside the image reads black: it weighs nothing.
        lower_weight *= (lower >= 0) & (lower < size)
        upper_weight *= (upper >= 0) & (upper < size)
    # Outside the image a neighbour reads the nearest edge pixel (or weighs nothing).
    return (
        (np.clip(lower, 0, size - 1), lower_weight),
        (np.clip(upper, 0, size - 1), upper_weight),
    )


def _inverse(matrix: Matrix) -> Matrix:
    """The inverse of a 2 x 3 affine map, computed as cv2.warpAffine does (zero if singular)."""
    (a, b, c), (d, e, f) = matrix.tolist()
    det = a * e - b * d
    det = 1.0 / det if det != 0 else 0.0
    a, b, d, e = e * det, -b * det, -d * det, a * det
    return np.array([[a, b, -a * c - b * f], [d, e, -d * c - e * f]], dtype=np.float64)


def _fixed_point(row: Matrix, side_px: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One inverse-map row's x part per output column and y part per output row, in 1/1024
    pixels, each rounded as OpenCV rounds them (the y part with half a 1/32 step added)."""
    grid = np.arange(side_px, dtype=np.float64)
    along_x = np.rint(row[0] * grid * _AB_SCALE).astype(np.int64)
    along_y = np.rint((row[1] * grid + row[2]) * _AB_SCALE).astype(np.int64)
    along_y += _AB_SCALE >> (_SUBPIXEL_BITS + 1)
    return along_x, along_y


def _steps(parts: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]], band: slice) -> _Index:
    """A source coordinate for every output pixel of a band of rows, in whole 1/32 pixels."""
    along_x, along_y = parts
    total: npt.NDArray[np.int64] = along_y[band, None] + along_x[None, :]
    total >>= _AB_BITS - _SUBPIXEL_BITS
    return np.asarray(total.reshape(-1), dtype=np.intp)


def _to_uint8(values: _Float32) -> ImageArray:
    """Round to the nearest grey level and clip into 0..255, as OpenCV saturates."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
