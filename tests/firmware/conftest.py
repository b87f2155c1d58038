"""Fixtures for the Cortex-M firmware tests: engines generated and firmware built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES

QEMU_BOARDS = ("qemu-mps2-an386", "qemu-mps2-an500", "qemu-mps3-an547")
CONV = FIXTURES / "tflite" / "conv_int8.tflite"
KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"


def needs(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {package})")


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """engine(model) -> the folder of its compiled engine (edgeq generate --format engine), made once."""
    from edgeq.codegen import generate

    root = tmp_path_factory.mktemp("engines")
    made: dict[Path, Path] = {}

    def _engine(model: Path) -> Path:
        if model not in made:
            folder = root / f"{model.parent.name}_{model.stem}"
            generate(model, "engine", folder, name="net")
            made[model] = folder
        return made[model]

    return _engine


@pytest.fixture(scope="session")
def firmware(engine, tmp_path_factory):
    """firmware(model, board) -> BuildResult of the model's engine built for the board, made once."""
    needs("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    from edgeq.firmware.build import build_firmware

    root = tmp_path_factory.mktemp("firmware")
    built: dict[tuple[Path, str], object] = {}

    def _firmware(model: Path, board: str):
        key = (model, board)
        if key not in built:
            built[key] = build_firmware(engine(model), board, root / f"{model.parent.name}_{model.stem}" / board)
        return built[key]

    return _firmware


def model_inputs(model: Path, seed: int = 0) -> list[np.ndarray]:
    """One seeded sample per model input, with a leading sample axis (int8/uint8 full range, floats in [-1, 1])."""
    from edgeq.model import read_model

    rng = np.random.default_rng(seed)
    samples = []
    for t in read_model(model).input_tensors:
        if t.dtype.startswith("float"):
            samples.append(rng.uniform(-1, 1, size=(1, *t.shape)).astype(t.dtype))
        else:
            info = np.iinfo(t.dtype)
            samples.append(rng.integers(info.min, info.max + 1, size=(1, *t.shape)).astype(t.dtype))
    return samples


def tflm_output_bytes(model: Path, inputs: list[np.ndarray]) -> bytes:
    """The raw output bytes of the tflite-micro interpreter for one sample, all outputs concatenated."""
    from edgeq.targets import get_target

    outputs = get_target("host-tflm").run(model.read_bytes(), inputs)
    return b"".join(np.ascontiguousarray(out[0]).tobytes() for out in outputs)
