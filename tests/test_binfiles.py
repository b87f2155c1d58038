"""The one rule for .bin files (float32, the input's own dtype, one-byte values with --bin-*), no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.data import load_dataset
from edgeq.data.binfiles import BinFormat, BinInput, bin_format, decode_bin
from edgeq.errors import DatasetError, UsageError
from edgeq.qtypes import DataSpec


def _bins(folder, arrays):
    folder.mkdir(exist_ok=True)
    for i, a in enumerate(arrays):
        (folder / f"{i}.bin").write_bytes(a.tobytes())
    return folder


def test_bin_folder_of_float32(tmp_path, rng):
    x = rng.random((3, 4, 5), dtype=np.float32)
    folder = _bins(tmp_path / "bins", x.astype("<f4"))
    np.testing.assert_array_equal(load_dataset(folder, [DataSpec("x", (None, 4, 5))]).arrays["x"], x)


def test_one_byte_bin_files_for_a_float_input_need_their_quantization(tmp_path, rng):
    spec = DataSpec("x", (None, 4, 5))
    q = rng.integers(-128, 128, (3, 4, 5)).astype(np.int8)
    folder = _bins(tmp_path / "bins", q)
    with pytest.raises(DatasetError, match=r"0\.bin has 20 bytes, one per element of input x \(4, 5\) float32") as err:
        load_dataset(folder, [spec])
    assert "--bin-dtype int8|uint8 --bin-scale S --bin-zero-point Z" in str(err.value)
    fmt = BinFormat("int8", 0.5, -3)
    got = load_dataset(folder, [spec], bin_format=fmt).arrays["x"]
    np.testing.assert_array_equal(got, (q.astype(np.float32) + 3) * 0.5)
    as_uint8 = load_dataset(folder, [spec], bin_format=BinFormat("uint8", 1 / 255, 0)).arrays["x"]
    np.testing.assert_allclose(as_uint8, q.view(np.uint8) / 255, atol=1e-6)


def test_bin_rule_by_size_and_input_dtype(rng):
    """One rule for every reader: own dtype, float32, or one-byte values with their quantization."""
    q = rng.integers(-128, 128, 6).astype(np.int8)
    int8_input = [BinInput("x", (2, 3), "int8")]
    (raw,) = decode_bin(q.tobytes(), int8_input, "a.bin")
    assert raw.dtype == np.int8 and raw.tolist() == q.reshape(2, 3).tolist()
    (real,) = decode_bin(q.tobytes(), int8_input, "a.bin", BinFormat("int8", 0.25, 1))
    np.testing.assert_array_equal(real, (q.reshape(2, 3).astype(np.float32) - 1) * 0.25)
    (floats,) = decode_bin(q.astype("<f4").tobytes(), int8_input, "a.bin")
    assert floats.dtype == np.float32 and floats.tolist() == q.reshape(2, 3).tolist()
    (wide,) = decode_bin(q.astype("<i2").tobytes(), [BinInput("x", (2, 3), "int16")], "a.bin")
    assert wide.dtype == np.int16
    with pytest.raises(
        DatasetError, match=r"a\.bin has 7 bytes but the model's inputs take 6 \(int8\) or 24 \(float32\)"
    ):
        decode_bin(bytes(7), int8_input, "a.bin")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (("int8", 0.5, None), "all three options"),
        (("int8", 0.0, 0), "must be a positive number"),
        (("uint8", 0.5, -1), "outside uint8"),
        (("int16", 0.5, 0), "not one of int8, uint8"),
    ],
)
def test_bin_format_options_are_checked(given, message):
    with pytest.raises(UsageError, match=message):
        bin_format(*given)
