"""The engine's SIMD32 (Cortex-M DSP extension) path on an emulated Cortex-M4, and its Helium path on an
emulated Cortex-M55, give the host's bytes.

scripts/count_m4_instructions.py builds the generated engine with arm-none-eabi-gcc for Cortex-M4
and runs it on qemu-system-arm (mps2-an386). For a few op-suite models that cover the SIMD32 code
(CONV_2D with dilation and odd channel counts, 1x1, DEPTHWISE_CONV_2D with multipliers 1 and 2, strides
1 and 2 and dilation 2,
FULLY_CONNECTED with batches, per-tensor weights, float edges), DS-CNN and ResNet-8 (the fused
CONV_2D+ADD), every output byte of
four samples (all -128, all 127, two random) must equal the host-c engine's (portable C, itself
bit-exact with TFLM in test_engine.py). Skipped without the Arm toolchain or QEMU.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import FIXTURES

pytest.importorskip("tflite_micro", reason="host-c builds need the same set-up as the other engine tests")

MODELS = [
    "ops/conv_k3_dil2_same_relu",
    "ops/conv_in8x8_k5_s2_same_relu",
    "ops/conv_k1_s2_same_relu",
    "ops/dw_k3_m1_s1_same_sat",
    "ops/dw_k3_m2_s1_same",
    "ops/dw_in8x8_k3_m1_s2_same",  # 3x3 windows cut to 3x2, 2x3 and 2x2 at the edges: the straight-line variants
    "ops/dw_k3_m1_dil2_same",
    "ops/fc_b3_bias_relu6",
    "ops/fc_b1_per_tensor",
    "ops/float_io_conv",
    "zoo/kws_dscnn",
    "zoo/ic_resnet8",
]


def _harness():
    script = FIXTURES.parent.parent / "scripts" / "count_m4_instructions.py"
    spec = importlib.util.spec_from_file_location("count_m4", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HARNESS = _harness()


def _path(key: str):
    kind, name = key.split("/")
    return FIXTURES / "zoo" / name / "int8.tflite" if kind == "zoo" else FIXTURES / "ops" / f"{name}.tflite"


@pytest.mark.parametrize("key", MODELS)
def test_simd32_engine_on_cortex_m4_matches_host(key):
    if HARNESS.tools() is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    result = HARNESS.measure(_path(key), samples=4)
    assert result["matches_host"], f"{key}: Cortex-M4 outputs differ from host-c"
    assert result["instructions"] > 0


# the Helium paths: the matrix kernel's im2col chunks of eight taps (3x3, 5x5 stride 2, 1x1), blocks of
# 8, 4 and 1 columns (FULLY_CONNECTED), the fused CONV_2D+ADD; depthwise lanes in int32 (3x3 inside and
# cut at the edges, stride 2, dilation 2); DS-CNN and ResNet-8 end to end
HELIUM = [
    "ops/dw_k3_m1_s1_same_sat",
    "ops/dw_in8x8_k3_m1_s2_same",
    "ops/dw_k3_m1_dil2_same",
    "ops/conv_k3_dil2_same_relu",
    "ops/conv_in8x8_k5_s2_same_relu",
    "ops/conv_k1_s2_same_relu",
    "ops/fc_b3_bias_relu6",
    "ops/float_io_conv",
    "zoo/kws_dscnn",
    "zoo/ic_resnet8",
]


@pytest.mark.parametrize("key", HELIUM)
def test_helium_engine_on_cortex_m55_matches_host(key):
    """The same on QEMU's mps3-an547 Cortex-M55, whose build takes the Helium (MVE) matrix kernel."""
    if HARNESS.tools() is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm (apt: gcc-arm-none-eabi qemu-system-arm)")
    result = HARNESS.measure(_path(key), cpu="cortex-m55", samples=4)
    assert result["matches_host"], f"{key}: Cortex-M55 (Helium) outputs differ from host-c"
    assert result["instructions"] > 0
