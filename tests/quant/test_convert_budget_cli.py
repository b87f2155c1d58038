"""``edgeq convert --accuracy-budget``: the CLI route into mixed precision."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import FIXTURES

pytest.importorskip("tensorflow")
TINY = FIXTURES / "models" / "tiny_cnn.keras"  # (12, 12, 3) -> 4 classes


def test_budget_needs_eval_data(cli, tmp_path):
    np.save(tmp_path / "calib.npy", np.random.default_rng(0).random((20, 12, 12, 3), np.float32))
    out = cli(
        "convert",
        str(TINY),
        "-d",
        str(tmp_path / "calib.npy"),
        "-o",
        str(tmp_path / "m.tflite"),
        "--accuracy-budget",
        "0.5",
    )
    assert out.exit_code == 2 and "--eval-data" in out.stderr
    assert not (tmp_path / "m.tflite").exists()


def test_generous_budget_keeps_the_model_fully_int8(cli, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((40, 12, 12, 3), np.float32)
    np.save(tmp_path / "calib.npy", x[:20])
    np.savez(tmp_path / "eval.npz", x=x[20:], y=rng.integers(0, 4, 20))
    out = cli(
        "convert",
        str(TINY),
        "-d",
        str(tmp_path / "calib.npy"),
        "-o",
        str(tmp_path / "m.tflite"),
        "--accuracy-budget",
        "100",
        "--eval-data",
        str(tmp_path / "eval.npz"),
        "--json",
    )
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["kept_float"] == [] and report["integer_only"] is True
    assert (tmp_path / "m.tflite").stat().st_size > 0
