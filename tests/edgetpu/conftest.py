"""Fixtures of the Edge TPU tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.edgetpu.models import CONV_INT8


@pytest.fixture
def conv_int8() -> bytes:
    return CONV_INT8.read_bytes()


@pytest.fixture
def write(tmp_path: Path):
    """Write bytes to a .tflite file in tmp_path and return its path as str."""

    def _write(data: bytes, name: str = "model.tflite") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return _write
