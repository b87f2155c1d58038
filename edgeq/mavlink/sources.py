"""Where frames come from: a replay file or folder, or raw frames on stdin (ROS 2 topics: :mod:`edgeq.mavlink.ros2_source`).

A source hands out frames, each one quantized sample: one array per model
input (sample shape, the input's dtype), ready for ``Session.infer``.

- Replay (``.npy`` or an MLPerf Tiny ``.bin`` folder) is played at the
  companion's ``--rate``: frame ``n`` is due ``n / rate`` seconds after the
  start. Frames whose time passed while inference was still busy are skipped
  (counted), as a camera's would be; ``--loop`` starts again at the end.
- stdin carries frames back to back, each the model's input bytes of one
  sample (every input in order, the input's own dtype, no header). It is read
  as it comes, at most ``--rate`` frames a second; a faster writer is held
  back by the pipe, nothing is skipped. A frame cut short by the end of the
  stream is reported and dropped.
"""

from __future__ import annotations

import os
import select
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edgeq.data.binfiles import decode_bin
from edgeq.data.files import load_npy, load_npz
from edgeq.errors import DatasetError
from edgeq.log import logger
from edgeq.model import Graph
from edgeq.model.io import ModelIO, model_inputs, split_sample

Frame = list[np.ndarray]


class Source(Protocol):
    """Frames for the companion loop."""

    describe: str
    paced: bool  # True: frames are due at the rate (replay); False: frames come when they come (stdin, ROS 2)
    skipped: int  # frames the source itself dropped (a ROS 2 message replaced by a newer one)
    malformed: int  # frames that could not be read as the model's input

    def poll(self, timeout: float) -> Frame | None:
        """The next frame, or None when none arrived within ``timeout`` seconds; EOFError at the end."""
        ...

    def skip(self, count: int) -> None:
        """Drop the next ``count`` frames (paced sources, when inference fell behind)."""
        ...

    def open(self) -> None:
        """Start receiving (after every option was checked)."""
        ...

    def close(self) -> None: ...


class Replay:
    """Samples of a file or folder, in order, optionally looped."""

    paced = True

    def __init__(self, samples: list[np.ndarray], describe: str, loop: bool = False) -> None:
        self.samples, self.describe, self.loop = samples, describe, loop
        self.count = len(samples[0])
        self.index = 0
        self.skipped = self.malformed = 0

    def _wrap(self) -> None:
        if self.index >= self.count and self.loop:
            self.index %= self.count

    def poll(self, timeout: float) -> Frame | None:
        self._wrap()
        if self.index >= self.count:
            raise EOFError
        frame = [a[self.index] for a in self.samples]
        self.index += 1
        return frame

    def skip(self, count: int) -> None:
        self.index += count
        self._wrap()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_replay(graph: Graph, path: Path, loop: bool, fmt: object = None) -> Replay:
    """A :class:`Replay` of ``path`` (.npy/.npz, or an MLPerf Tiny folder), checked against the model's inputs.

    Real values are quantized with the inputs' parameters, quantized ones
    (the input's own dtype) are taken as they are.
    """
    from edgeq.batch_run import prepare_inputs
    from edgeq.mlperf_eval import dataset_inputs, is_mlperf_folder

    if is_mlperf_folder(path):
        arrays = dataset_inputs(graph, path, fmt)[1]  # type: ignore[arg-type]
    elif path.is_dir():
        arrays = _bin_folder(graph, path, fmt)
    elif not path.exists():
        raise DatasetError(f"--input {path} does not exist; give an .npy file, a folder of .bin files or '-'")
    else:
        arrays = list(load_npz(path).values()) if path.suffix.lower() == ".npz" else [load_npy(path)]
    try:
        prepared = prepare_inputs(graph, arrays)
    except DatasetError as exc:
        raise DatasetError(f"--input {path}: {exc}; {_want(model_inputs(graph))}") from None
    return Replay(prepared, f"{path} ({len(prepared[0])} frames{', looped' if loop else ''})", loop)


def _bin_folder(graph: Graph, folder: Path, fmt: object) -> list[np.ndarray]:
    """Every ``.bin`` file of a folder without labels, sorted by name, read by edgeq's .bin rule."""
    from edgeq.serialdut.dataset import bin_layout, stack_samples

    files = sorted(folder.glob("*.bin"))
    if not files:
        raise DatasetError(f"--input {folder} holds no .bin files; give an .npy file or a folder of .bin files")
    layout = bin_layout(graph.input_tensors)
    pieces = [decode_bin(f.read_bytes(), layout, f.name, fmt) for f in files]  # type: ignore[arg-type]
    return stack_samples(pieces, str(folder))


def _want(specs: tuple[ModelIO, ...]) -> str:
    shapes = ", ".join(f"(N, {', '.join(map(str, s.sample_shape))}) {s.dtype} or float32" for s in specs)
    return f"the model takes {shapes}"


class Stdin:
    """Raw frames on a byte stream (stdin), read without blocking the link."""

    paced = False

    def __init__(self, graph: Graph, stream: BinaryIO) -> None:
        self.specs = model_inputs(graph)
        self.frame_bytes = sum(s.nbytes for s in self.specs)
        self.fd = stream.fileno()
        self.buffer = bytearray()
        self.skipped = self.malformed = 0
        self.describe = f"stdin (frames of {self.frame_bytes} bytes: {_layout(self.specs)})"

    def poll(self, timeout: float) -> Frame | None:
        while len(self.buffer) < self.frame_bytes:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self.fd, self.frame_bytes - len(self.buffer))
            if not chunk:
                self._end()
            self.buffer += chunk
            timeout = 0.0
        frame = split_sample(bytes(self.buffer[: self.frame_bytes]), self.specs)
        del self.buffer[: self.frame_bytes]
        return frame

    def _end(self) -> None:
        if self.buffer:
            self.malformed += 1
            logger.warning(
                "stdin ended inside a frame: %d of %d bytes; that partial frame is dropped "
                "(each frame must be exactly the model's input bytes)",
                len(self.buffer),
                self.frame_bytes,
            )
            self.buffer.clear()
        raise EOFError

    def skip(self, count: int) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass


def _layout(specs: tuple[ModelIO, ...]) -> str:
    return " + ".join(f"{s.name} {'x'.join(map(str, s.sample_shape))} {s.dtype}" for s in specs)
