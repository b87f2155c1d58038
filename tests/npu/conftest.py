"""Vela compilations shared by the npu tests: each model and configuration compiled once per session."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
KWS_FLOAT = FIXTURES / "zoo" / "kws_dscnn" / "float.tflite"
SQRT = FIXTURES / "npu" / "sqrt_int8.tflite"
GATHER = FIXTURES / "npu" / "gather_int8.tflite"


@pytest.fixture(scope="session")
def compiled():
    """``compiled(path, accelerator, **options)``: the NpuCompilation, made once per session."""
    from edgeq.npu import compile_model

    made: dict[tuple, object] = {}

    def get(path, accelerator, **options):
        key = (str(path), accelerator, tuple(sorted(options.items())))
        if key not in made:
            made[key] = compile_model(path.read_bytes(), accelerator, **options)
        return made[key]

    return get
