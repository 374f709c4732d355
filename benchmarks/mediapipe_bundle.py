"""Builds a copy of the pose bundle that MediaPipe's own runtime accepts (for comparisons only).

MediaPipe's Tasks runtime refuses float models without input-normalisation metadata; the
coach's bundle carries the plain graphs (LiteRT needs none). This writes the metadata the
official metadata writer would, into a scratch copy. Needs mediapipe installed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from coach.errors import ModelError
from coach.pose.model_store import (
    SOURCE_PACKAGE,
    TASK_DETECTOR_NAME,
    TASK_LANDMARKS_NAME,
    build_task_file,
)

_METADATA_FIELD_NAME: Final = "TFLITE_METADATA"
_TFLITE_FILE_IDENTIFIER: Final = b"TFL3"
_METADATA_FILE_IDENTIFIER: Final = b"M001"
_MIN_METADATA_PARSER_VERSION: Final = "1.0.0"
_TFLITE_FLOAT32: Final = 0
_TFLITE_BUFFER_ALIGNMENT_BYTES: Final = 16


def mediapipe_bundle(model: Path, out: Path) -> Path:
    """Write `model` with image metadata on both graphs to `out`; return `out`."""
    with zipfile.ZipFile(model) as bundle:
        detector = bundle.read(TASK_DETECTOR_NAME)
        landmarks = bundle.read(TASK_LANDMARKS_NAME)
    return build_task_file(
        add_image_metadata(detector, mean=127.5, std=127.5, name="Pose detector"),
        add_image_metadata(landmarks, mean=0.0, std=255.0, name="Pose landmarks detector"),
        out,
    )


def _decode(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def add_image_metadata(tflite: bytes, *, mean: float, std: float, name: str) -> bytes:
    """Return `tflite` with TFLite model metadata describing its RGB float image input.

    Mirrors what the official metadata writer (MetadataPopulator) does: the
    ModelMetadata flatbuffer goes into a new model buffer, referenced by a
    "TFLITE_METADATA" entry of the model's metadata vector (an existing entry
    is replaced), and the model is re-serialised.
    """
    import flatbuffers
    import numpy as np
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    if std <= 0:
        raise ModelError(f"cannot describe {name}: normalisation std must be > 0, got {std}")
    if not tflite_fb.Model.ModelBufferHasIdentifier(tflite, 0):
        raise ModelError(f"cannot describe {name}: the data is not a TFLite model")
    model = tflite_fb.ModelT.InitFromObj(tflite_fb.Model.GetRootAs(tflite, 0))
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ModelError(f"cannot describe {name}: expected exactly one TFLite subgraph")
    subgraph = model.subgraphs[0]
    inputs = [subgraph.tensors[i] for i in subgraph.inputs]
    outputs = [subgraph.tensors[i] for i in subgraph.outputs]
    image = inputs[0] if len(inputs) == 1 else None
    if (
        image is None
        or image.type != _TFLITE_FLOAT32
        or image.shape is None
        or len(image.shape) != 4
        or int(image.shape[3]) != 3
    ):
        raise ModelError(f"cannot describe {name}: expected one float32 [1, H, W, 3] image input")

    model_metadata = _image_model_metadata(meta_fb, name, mean, std, outputs)
    meta_builder = flatbuffers.Builder(0)
    meta_builder.Finish(model_metadata.Pack(meta_builder), _METADATA_FILE_IDENTIFIER)
    metadata_bytes = bytes(meta_builder.Output())

    metadata_buffer = tflite_fb.BufferT()
    # A numpy array makes BufferT.Pack copy the bytes in one go instead of per byte.
    metadata_buffer.data = np.frombuffer(metadata_bytes, dtype=np.uint8)
    if model.buffers is None:
        model.buffers = []
    if model.metadata is None:
        model.metadata = []
    existing = [m for m in model.metadata if _decode(m.name) == _METADATA_FIELD_NAME]
    if existing:
        # The wheel's detector carries stale metadata copied from a face model.
        for entry in existing:
            model.buffers[entry.buffer] = metadata_buffer
    else:
        model.buffers.append(metadata_buffer)
        entry = tflite_fb.MetadataT()
        entry.name = _METADATA_FIELD_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)

    model.buffers = [_aligned_buffer(tflite_fb, buffer) for buffer in model.buffers]
    model_builder = flatbuffers.Builder(len(tflite) + len(metadata_bytes) + 4096)
    model_builder.Finish(model.Pack(model_builder), _TFLITE_FILE_IDENTIFIER)
    return bytes(model_builder.Output())


def _aligned_buffer(tflite_fb: Any, buffer: Any) -> Any:
    """Wrap a BufferT so its bytes are packed at a 16-byte boundary.

    The generated Pack aligns weights to 1 byte only; TFLite then warns and
    copies every unaligned constant tensor to the heap instead of using it in
    place, as the original converter output (16-byte aligned) allowed.
    """

    class AlignedBufferT(tflite_fb.BufferT):  # type: ignore[misc]
        def Pack(self, builder: Any) -> Any:
            if self.data is not None and len(self.data) > 0:
                # Pad now so the data that Pack prepends next ends up aligned.
                builder.Prep(_TFLITE_BUFFER_ALIGNMENT_BYTES, len(self.data))
            return super().Pack(builder)

    return AlignedBufferT(data=buffer.data, offset=buffer.offset, size=buffer.size)


def _image_model_metadata(
    meta_fb: Any, name: str, mean: float, std: float, outputs: Sequence[Any]
) -> Any:
    """Build the ModelMetadataT the official image writers produce for one input."""
    normalization = meta_fb.NormalizationOptionsT()
    normalization.mean = [float(mean)]
    normalization.std = [float(std)]
    process_unit = meta_fb.ProcessUnitT()
    process_unit.optionsType = meta_fb.ProcessUnitOptions.NormalizationOptions
    process_unit.options = normalization

    image_properties = meta_fb.ImagePropertiesT()
    image_properties.colorSpace = meta_fb.ColorSpaceType.RGB
    image_content = meta_fb.ContentT()
    image_content.contentPropertiesType = meta_fb.ContentProperties.ImageProperties
    image_content.contentProperties = image_properties

    # Stats hold the value range of the normalised float input (8-bit pixels in).
    image_stats = meta_fb.StatsT()
    image_stats.min = [(0.0 - mean) / std]
    image_stats.max = [(255.0 - mean) / std]

    image_tensor = meta_fb.TensorMetadataT()
    image_tensor.name = "image"
    image_tensor.description = "Input RGB image, float32, normalised as (pixel - mean) / std."
    image_tensor.content = image_content
    image_tensor.processUnits = [process_unit]
    image_tensor.stats = image_stats

    output_tensors = []
    for tensor in outputs:
        feature_content = meta_fb.ContentT()
        feature_content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
        feature_content.contentProperties = meta_fb.FeaturePropertiesT()
        output_tensor = meta_fb.TensorMetadataT()
        output_tensor.name = _decode(tensor.name)
        output_tensor.content = feature_content
        output_tensor.stats = meta_fb.StatsT()
        output_tensors.append(output_tensor)

    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image_tensor]
    subgraph.outputTensorMetadata = output_tensors

    model_metadata = meta_fb.ModelMetadataT()
    model_metadata.name = name
    model_metadata.description = f"{name} from {SOURCE_PACKAGE}, metadata added by coach."
    model_metadata.license = (
        "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0."
    )
    model_metadata.subgraphMetadata = [subgraph]
    model_metadata.minParserVersion = _MIN_METADATA_PARSER_VERSION
    return model_metadata
