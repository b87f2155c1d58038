"""The sweep the tests run (tiny_cnn, two option sets x host-c and qemu-m4, and a broken model), shared by
tests/sweep and tests/farm: the uninterrupted local sweep runs once per test session."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import MODELS

TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc", "cc")
OPTION_SETS = [{"mode": "int8", "samples": 20, "seed": 1}, {"calibration": "percentile", "samples": 20, "seed": 1}]
SWEEP = {
    "name": "tiny",
    "models": ["tiny_cnn.keras", "broken.keras"],
    "data": "calib.npy",
    "eval": "eval.npz",
    "convert": OPTION_SETS,
    "targets": ["host-c", "qemu-m4"],
    "runs": 3,
    "warmup": 1,
}
# what must agree between two sweeps of the same file (timings aside)
COMPARED = ("kind", "model", "options", "target", "status", "size_bytes", "instructions", "accuracy", "ram_bytes")
_LOCAL: dict[str, tuple] = {}


def write_sweep(folder, **changes) -> str:
    import yaml

    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({**SWEEP, **changes}))
    return str(path)


def make_inputs(folder):
    """tiny_cnn, a .keras file that is not a model, calibration data and labelled evaluation data."""
    shutil.copy(MODELS / "tiny_cnn.keras", folder / "tiny_cnn.keras")
    (folder / "broken.keras").write_bytes(b"not a keras file")
    rng = np.random.default_rng(7)
    np.save(folder / "calib.npy", rng.random((40, 12, 12, 3), dtype=np.float32))
    np.savez(folder / "eval.npz", x=rng.random((30, 12, 12, 3), dtype=np.float32), y=rng.integers(0, 2, 30))
    write_sweep(folder)
    return folder


def sweep_args(folder, out, *extra, executor="pool"):
    return ["sweep", str(folder / "sweep.yaml"), "-o", str(out), "--executor", executor, *extra]


def records(out) -> dict[str, dict]:
    return {r["id"]: r for r in json.loads((out / "results.json").read_text())["records"]}


def comparable(found: dict[str, dict]) -> dict[str, dict]:
    return {i: {k: r[k] for k in COMPARED} for i, r in found.items()}


def need_tools() -> None:
    for tool in TOOLS:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/run setup installs it)")
    pytest.importorskip("tensorflow")


def local_sweep(tmp_path_factory):
    """(inputs folder, results folder, --json summary) of the uninterrupted sweep in the local process pool."""
    if "local" not in _LOCAL:
        need_tools()
        from tests.conftest import run_cli

        inputs = make_inputs(tmp_path_factory.mktemp("sweep-inputs"))
        out = tmp_path_factory.mktemp("swept") / "results"
        result = run_cli(*sweep_args(inputs, out, "--json"))
        assert result.exit_code == 0, result.stderr
        _LOCAL["local"] = (inputs, out, result.json())
    return _LOCAL["local"]
