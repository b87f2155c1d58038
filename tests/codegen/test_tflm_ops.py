"""The op -> MicroMutableOpResolver method table, checked against a real TFLM build."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edgeq.codegen.tflm_ops import CUSTOM_METHODS, RESOLVER_METHODS, resolver_method, resolver_methods
from edgeq.errors import UnsupportedError
from edgeq.model.schema import BUILTIN_OPERATORS

COMMON_INT8 = [
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "SOFTMAX",
    "RESHAPE",
    "ADD",
    "MUL",
    "QUANTIZE",
    "DEQUANTIZE",
    "MEAN",
    "PAD",
    "CONCATENATION",
    "LOGISTIC",
    "TANH",
    "SHAPE",
    "STRIDED_SLICE",
    "PACK",
]

# Methods whose name is not the plain CamelCase of the enum name (see the module docstring).
NOT_CAMEL_CASE = {
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "CONV_2D": "AddConv2D",
    "CUMSUM": "AddCumSum",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "L2_POOL_2D": "AddL2Pool2D",
    "MAX_POOL_2D": "AddMaxPool2D",
    "PADV2": "AddPadV2",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
}

# In the TFLM binary every builtin registers as Register_<ENUM NAME>(). Custom ops
# register under a name unrelated to their custom_code: this maps one to the other.
CUSTOM_SYMBOLS = {
    "BasicClassifier": "BASIC_CLASSIFIER",
    "CIRCULAR_BUFFER": "CIRCULAR_BUFFER",
    "TFLM_DECODE": "DECODE",
    "TFLite_Detection_PostProcess": "DETECTION_POSTPROCESS",
    "ethos-u": "ETHOSU",
    "SignalDelay": "DELAY",
    "SignalEnergy": "ENERGY",
    "SignalFftAutoScale": "FFT_AUTO_SCALE",
    "SignalFilterBank": "FILTER_BANK",
    "SignalFilterBankLog": "FILTER_BANK_LOG",
    "SignalFilterBankSpectralSubtraction": "FILTER_BANK_SPECTRAL_SUBTRACTION",
    "SignalFilterBankSquareRoot": "FILTER_BANK_SQUARE_ROOT",
    "SignalFramer": "FRAMER",
    "SignalIrfft": "IRFFT",
    "SignalOverlapAdd": "OVERLAP_ADD",
    "SignalPCAN": "PCAN",
    "SignalRfft": "RFFT",
    "SignalStacker": "STACKER",
    "SignalWindow": "WINDOW",
}

# Registration functions in the binary that no resolver method uses by default:
# per-type variants of the signal FFT/overlap-add kernels (callers may pass them to
# AddRfft()/AddIrfft()) and the reference L2 normalization kernel.
VARIANT_SYMBOLS = {
    "IRFFT_FLOAT",
    "IRFFT_INT16",
    "IRFFT_INT32",
    "L2NORM_REF",
    "OVERLAP_ADD_FLOAT",
    "OVERLAP_ADD_INT16",
    "RFFT_FLOAT",
    "RFFT_INT16",
    "RFFT_INT32",
}

_REGISTER = re.compile(r"\s[TtWw]\s+tflite::(?:\w+::)*Register_([A-Z][A-Z0-9_]*)\(\)$")


def _camel(op: str) -> str:
    return "Add" + "".join(part.capitalize() for part in op.split("_"))


def _runtime_so() -> Path:
    spec = importlib.util.find_spec("tflite_micro")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the tflite-micro package is not installed")
    so = Path(next(iter(spec.submodule_search_locations))) / "python" / "tflite_micro" / "_runtime.so"
    if not so.exists():
        pytest.skip(f"{so} not found in this tflite-micro build")
    return so


def _nm_registrations(nm: str, so: Path, dynamic: bool) -> set[str]:
    args = [nm, "-DC" if dynamic else "-C", str(so)]
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    return {m.group(1) for line in out.stdout.splitlines() if (m := _REGISTER.search(line))}


@pytest.fixture(scope="module")
def registered() -> set[str]:
    """Op names X with a defined ``tflite::...::Register_X()`` in the tflite-micro runtime."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed; cannot list the TFLM kernels")
    so = _runtime_so()
    names = _nm_registrations(nm, so, dynamic=False) or _nm_registrations(nm, so, dynamic=True)
    if not names:
        pytest.skip(f"no Register_* symbols in {so} (stripped build?)")
    return names


def test_method_names_are_cpp_identifiers():
    pattern = re.compile(r"^Add[A-Z][A-Za-z0-9]*$")
    bad = [m for m in [*RESOLVER_METHODS.values(), *CUSTOM_METHODS.values()] if not pattern.match(m)]
    assert not bad


def test_no_method_registers_two_ops():
    # The header has one method per op; none is shared.
    methods = [*RESOLVER_METHODS.values(), *CUSTOM_METHODS.values()]
    assert len(methods) == len(set(methods))


def test_table_covers_the_resolver():
    assert len(RESOLVER_METHODS) + len(CUSTOM_METHODS) > 100
    assert set(COMMON_INT8) <= set(RESOLVER_METHODS)


def test_builtin_keys_are_the_readers_spelling():
    assert set(RESOLVER_METHODS) - set(BUILTIN_OPERATORS) == set()


def test_only_the_documented_methods_break_camel_case():
    odd = {op: m for op, m in RESOLVER_METHODS.items() if m != _camel(op)}
    assert odd == NOT_CAMEL_CASE


def test_common_int8_ops_have_kernels_in_the_binary(registered):
    assert [op for op in COMMON_INT8 if op not in registered] == []


def test_table_builtins_have_kernels_in_the_binary(registered):
    missing = sorted(set(RESOLVER_METHODS) - registered)
    assert len(missing) <= 0.1 * len(RESOLVER_METHODS), missing


def test_custom_ops_have_kernels_in_the_binary(registered):
    assert set(CUSTOM_SYMBOLS) == set(CUSTOM_METHODS)
    assert sorted(sym for sym in CUSTOM_SYMBOLS.values() if sym not in registered) == []


def test_every_kernel_in_the_binary_is_in_the_table(registered):
    known = set(RESOLVER_METHODS) | set(CUSTOM_SYMBOLS.values()) | VARIANT_SYMBOLS
    assert sorted(registered - known) == []


@pytest.mark.parametrize(
    ("op", "custom", "method"),
    [
        ("CONV_2D", None, "AddConv2D"),
        ("UNIDIRECTIONAL_SEQUENCE_LSTM", None, "AddUnidirectionalSequenceLSTM"),
        ("CUSTOM", "TFLite_Detection_PostProcess", "AddDetectionPostprocess"),
        ("CUSTOM", "SignalWindow", "AddWindow"),
        ("TFLite_Detection_PostProcess", None, "AddDetectionPostprocess"),
    ],
)
def test_resolver_method(op, custom, method):
    assert resolver_method(op, custom) == method


@pytest.mark.parametrize(
    ("op", "custom", "shown"),
    [
        ("BIDIRECTIONAL_SEQUENCE_LSTM", None, "op BIDIRECTIONAL_SEQUENCE_LSTM has no kernel"),
        ("CUSTOM", "MyOp", "op CUSTOM 'MyOp' has no kernel"),
        ("CUSTOM", None, "op CUSTOM (no custom code) has no kernel"),
        ("UNKNOWN_999", None, "op UNKNOWN_999 has no kernel"),
    ],
)
def test_resolver_method_rejects_ops_without_a_kernel(op, custom, shown):
    with pytest.raises(UnsupportedError, match=re.escape(shown)) as info:
        resolver_method(op, custom)
    assert "\n" not in str(info.value)
    assert "MicroMutableOpResolver" in str(info.value)


def test_resolver_methods_are_distinct_in_first_seen_order():
    ops = [("QUANTIZE", None), ("CONV_2D", None), ("CONV_2D", None), ("CUSTOM", "SignalRfft"), ("QUANTIZE", None)]
    assert resolver_methods(ops) == ["AddQuantize", "AddConv2D", "AddRfft"]
    assert resolver_methods([]) == []


def test_resolver_methods_lists_every_unsupported_op():
    ops = [("RNN", None), ("CONV_2D", None), ("CUSTOM", "MyOp"), ("RNN", None), ("LSTM", None)]
    with pytest.raises(UnsupportedError) as info:
        resolver_methods(ops)
    message = str(info.value)
    assert message.startswith("ops RNN, CUSTOM 'MyOp', LSTM have no kernel")
    assert "CONV_2D" not in message
    assert "\n" not in message
