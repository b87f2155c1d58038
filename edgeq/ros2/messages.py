"""ROS 2 messages in and out of a model: what the node accepts, how it becomes a sample, what it publishes.

Inputs (one message is one sample):

- ``float32``: ``std_msgs/Float32MultiArray``, real values of every input
  concatenated in input order, quantized with each input's scale and zero point;
- ``int8``: ``std_msgs/Int8MultiArray``, already-quantized values used as they are
  (every input must be int8);
- ``image``: ``sensor_msgs/Image`` in mono8, rgb8 or bgr8, converted to the
  input's channels, resized to its height and width (bilinear) and normalised
  as ``edgeq convert`` does with image folders: ``pixel * scale + offset``,
  then quantized.

A message that does not fit (wrong element count, NaN, an unknown encoding)
raises :class:`MalformedMessage`; the node counts it and goes on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeq.errors import UsageError
from edgeq.model import Graph
from edgeq.model.io import ModelIO, model_inputs, model_outputs

INPUT_TYPES = ("float32", "int8", "image")
ENCODINGS = {"mono8": 1, "rgb8": 3, "bgr8": 3}


class MalformedMessage(ValueError):
    """An input message the model cannot take; the text says why."""


def message_class(kind: str) -> Any:
    """The rclpy message class for input type ``kind`` (one of INPUT_TYPES)."""
    if kind == "image":
        from sensor_msgs.msg import Image

        return Image
    from std_msgs.msg import Float32MultiArray, Int8MultiArray

    return {"float32": Float32MultiArray, "int8": Int8MultiArray}[kind]


class Decoder:
    """Input messages of one type -> one sample for ``graph`` (one array per input, the input's dtype).

    Raises UsageError at construction when the model cannot take that type at all (checked before a node starts).
    """

    def __init__(self, graph: Graph, kind: str, scale: float = 1.0, offset: float = 0.0) -> None:
        if kind not in INPUT_TYPES:
            raise UsageError(f"unknown input type {kind!r}; use one of {', '.join(INPUT_TYPES)}")
        self.inputs, self.kind, self.scale, self.offset = model_inputs(graph), kind, scale, offset
        self.elements = sum(spec.elements for spec in self.inputs)
        if kind == "int8" and any(spec.dtype != "int8" for spec in self.inputs):
            types = ", ".join(f"{s.name} {s.dtype}" for s in self.inputs)
            raise UsageError(f"--input-type int8 needs int8 inputs; this model's are {types}: use --input-type float32")
        if kind == "image":
            self.geometry = image_input(self.inputs)

    def decode(self, msg: Any) -> list[np.ndarray]:
        """One sample from ``msg``; MalformedMessage when it does not fit the model."""
        if self.kind == "image":
            values = self._image(msg)
        elif self.kind == "int8":
            values = np.asarray(msg.data, np.int8).reshape(-1)
        else:
            values = np.asarray(msg.data, np.float32)
        if values.size != self.elements:
            raise MalformedMessage(f"{values.size} values, but the model's inputs take {self.elements}")
        if self.kind != "int8" and not np.isfinite(values).all():
            raise MalformedMessage("it contains NaN or Inf")
        return self._split(values)

    def _split(self, values: np.ndarray) -> list[np.ndarray]:
        out, start = [], 0
        for spec in self.inputs:
            part = values[start : start + spec.elements].reshape(spec.sample_shape)
            start += spec.elements
            out.append(part if self.kind == "int8" else _to_input(spec, part))
        return out

    def _image(self, msg: Any) -> np.ndarray:
        from PIL import Image

        height, width, channels = self.geometry
        have = ENCODINGS.get(msg.encoding)
        if have is None:
            raise MalformedMessage(f"image encoding {msg.encoding!r}; the node takes {', '.join(ENCODINGS)}")
        rows, cols, step = int(msg.height), int(msg.width), int(msg.step)
        data = bytes(msg.data)
        if rows == 0 or cols == 0 or step < cols * have or len(data) < rows * step:
            raise MalformedMessage(f"a {cols}x{rows} {msg.encoding} image with step {step} and {len(data)} bytes")
        pixels = np.frombuffer(data, np.uint8)[: rows * step].reshape(rows, step)[:, : cols * have]
        pixels = pixels.reshape(rows, cols, have)
        if msg.encoding == "bgr8":
            pixels = pixels[:, :, ::-1]
        img = Image.fromarray(np.ascontiguousarray(pixels.squeeze(2) if have == 1 else pixels))
        img = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)  # type: ignore[attr-defined]
        real = np.asarray(img, np.float32).reshape(height, width, channels)
        return (real * np.float32(self.scale) + np.float32(self.offset)).reshape(-1)


def image_input(inputs: tuple[ModelIO, ...]) -> tuple[int, int, int]:
    """(height, width, channels) of a model whose one input is an NHWC image; UsageError otherwise."""
    shape = inputs[0].sample_shape if len(inputs) == 1 else ()
    if len(shape) != 3 or shape[2] not in (1, 3):
        shapes = ", ".join(str(list(s.shape)) for s in inputs)
        raise UsageError(
            f"--input-type image needs one NHWC input with 1 or 3 channels; this model takes {shapes}: "
            "use --input-type float32"
        )
    return int(shape[0]), int(shape[1]), int(shape[2])


def _to_input(spec: ModelIO, real: np.ndarray) -> np.ndarray:
    """Real values for one input: quantized for an integer input, cast for a float one."""
    return spec.quantize(real) if spec.quantized else real.astype(spec.numpy_dtype)


def classifier(graph: Graph) -> bool:
    """True for one output of shape [1, N] (or [N]) with N > 1: the node then also publishes the top-1 index."""
    outputs = model_outputs(graph)
    return len(outputs) == 1 and len(outputs[0].sample_shape) == 1 and outputs[0].sample_shape[0] > 1


def result_message(graph: Graph, raw: list[np.ndarray]) -> tuple[Any, np.ndarray]:
    """The Float32MultiArray of one sample's dequantized outputs (in output order), and the values."""
    from std_msgs.msg import Float32MultiArray, MultiArrayDimension

    specs = model_outputs(graph)
    values = np.concatenate([spec.dequantize(np.asarray(r)).reshape(-1) for spec, r in zip(specs, raw)])
    msg = Float32MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=s.name, size=s.elements, stride=s.elements) for s in specs]
    msg.data = values.astype(np.float32).tolist()
    return msg, values
