"""MLPerf Tiny evaluation datasets: a folder of ``.bin`` input files plus ``y_labels.csv``.

``y_labels.csv`` (mlcommons/tiny ``benchmark/evaluation/datasets``) has one line per
file: ``file name, number of classes, class``; anomaly detection (ad01) adds
``window width (bytes), stride (bytes)``: the host sends each window of the file
as one input, class 1 = anomaly and 0 = normal. The ``.bin`` files hold the raw
input bytes exactly as hosts load them into the DUT; :meth:`MlperfDataset.arrays`
turns them into arrays by the rule of :func:`edgeq.data.binfiles.decode_bin`, the
same rule ``edgeq convert`` reads .bin calibration files with.

Example::

    data = load_mlperf_dataset("datasets/kws01")
    results = SerialTarget("/dev/ttyACM0").dut_results(data.inputs())
    print(top1_accuracy(np.array(results), data.labels))
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeq.data.binfiles import BinFormat, BinInput, decode_bin
from edgeq.errors import DatasetError
from edgeq.model import Tensor
from edgeq.model.io import sample_shape

TRUTH_FILE = "y_labels.csv"


@dataclass(frozen=True)
class LabelRow:
    """One line of y_labels.csv.

    Attributes:
        file: The input file's name, relative to the folder.
        n_classes: Number of classes (2 for anomaly detection).
        label: The true class (anomaly detection: 1 = anomaly, 0 = normal).
        window: Anomaly detection: bytes per input window; None otherwise.
        stride: Anomaly detection: bytes between window starts; None otherwise.
    """

    file: str
    n_classes: int
    label: int
    window: int | None = None
    stride: int | None = None

    def __post_init__(self) -> None:
        if self.n_classes < 1 or not 0 <= self.label < self.n_classes:
            raise DatasetError(f"{self.file}: class {self.label} is not in 0..{self.n_classes - 1}")
        sizes = [v for v in (self.window, self.stride) if v is not None]
        if len(sizes) == 1 or any(v < 1 for v in sizes):
            raise DatasetError(f"{self.file}: window and stride must both be given and positive")


@dataclass(frozen=True)
class MlperfSample:
    """One input file and its ground truth."""

    row: LabelRow
    data: bytes

    def windows(self) -> list[bytes]:
        """The inputs the host sends for this file: the whole file, or each window (ad01)."""
        width, stride = self.row.window, self.row.stride
        if width is None or stride is None:
            return [self.data]
        return [self.data[s : s + width] for s in range(0, len(self.data) - width + 1, stride)]


@dataclass(frozen=True)
class MlperfDataset:
    """A loaded MLPerf Tiny dataset folder."""

    folder: Path
    samples: tuple[MlperfSample, ...]

    @property
    def labels(self) -> np.ndarray:
        """The true class of each file, shape (N,)."""
        return np.array([s.row.label for s in self.samples], np.int64)

    def inputs(self) -> list[bytes]:
        """The raw bytes of each file (not split into ad01 windows)."""
        return [s.data for s in self.samples]

    def arrays(self, tensors: Sequence[Tensor], fmt: BinFormat | None = None) -> list[np.ndarray]:
        """The files as one (N, ...) array per model input tensor, to run on any edgeq target.

        Each file is read by :func:`edgeq.data.binfiles.decode_bin`: the inputs' own
        dtype, float32 real values, or (with ``fmt``) dequantized one-byte values.

        Raises:
            DatasetError: A file's size fits none of those.
        """
        layout = bin_layout(tensors)
        hint = "; is this the dataset of this model (ad01 files hold several windows)?"
        decoded = [decode_bin(s.data, layout, s.row.file, fmt, hint) for s in self.samples]
        return stack_samples(decoded, str(self.folder))


def bin_layout(tensors: Sequence[Tensor]) -> list[BinInput]:
    """What :func:`decode_bin` needs to know of the model's input tensors."""
    return [BinInput(t.name, sample_shape(t.shape), t.dtype) for t in tensors]


def stack_samples(decoded: Sequence[Sequence[np.ndarray]], what: str) -> list[np.ndarray]:
    """One (N, ...) array per input from per-sample arrays; files of different kinds are an error."""
    per_input = list(zip(*decoded))
    for arrays in per_input:
        kinds = sorted({str(a.dtype) for a in arrays})
        if len(kinds) > 1:
            raise DatasetError(f"the files of {what} mix sizes (read as {', '.join(kinds)}); give files of one kind")
    return [np.stack(arrays) for arrays in per_input]


def parse_labels(text: str, source: str = TRUTH_FILE) -> list[LabelRow]:
    """Parse the text of a y_labels.csv (blank lines and ``#`` comments are skipped).

    Raises:
        DatasetError: A line has the wrong number of fields or a field is not an integer.
    """
    rows = []
    for number, fields in enumerate(csv.reader(text.splitlines()), 1):
        fields = [f.strip() for f in fields]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if len(fields) not in (3, 5):
            raise DatasetError(
                f"{source} line {number} has {len(fields)} fields; expected 'file, classes, class' "
                "or 'file, classes, class, window bytes, stride bytes'"
            )
        try:
            numbers = [int(f) for f in fields[1:]]
        except ValueError:
            raise DatasetError(f"{source} line {number}: {fields[1:]} are not all integers") from None
        rows.append(LabelRow(fields[0], *numbers))
    return rows


def load_mlperf_dataset(folder: str | Path, truth_file: str = TRUTH_FILE, limit: int | None = None) -> MlperfDataset:
    """Read ``folder/y_labels.csv`` and the input files it names (the first ``limit`` of them).

    Raises:
        DatasetError: The label file or one of the named files is missing, or malformed.
    """
    root = Path(folder)
    truth = root / truth_file
    if not truth.is_file():
        raise DatasetError(f"{truth} not found; an MLPerf Tiny dataset folder holds the .bin files and {truth_file}")
    rows = parse_labels(truth.read_text(encoding="utf-8"), str(truth))[:limit]
    if not rows:
        raise DatasetError(f"{truth} lists no files")
    samples = []
    for row in rows:
        path = root / row.file
        if not path.is_file():
            raise DatasetError(f"{truth} names {row.file}, which is not in {root}; copy the .bin files next to it")
        samples.append(MlperfSample(row, path.read_bytes()))
    return MlperfDataset(root, tuple(samples))
