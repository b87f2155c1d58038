"""Every command on corrupt models: success or one ``error:`` line; never a traceback, uncompilable C or a crash.

A fixed-seed set of byte mutations of tests/fixtures/tflite/conv_int8.tflite,
plus the hand-made corruptions of tests/corrupt_models.py, go through the real
command line: ``inspect`` on all of them; on those ``inspect`` accepts,
``generate`` (carray, engine) in-process and ``run --target host`` as a child
process (LiteRT runs in the process that loads it, so a crash must stay
visible). Engine sources that were generated must compile with
``gcc -std=c99 -Wall -Wextra -Werror``. The expensive parts, ``run`` on
host-tflm and host-c and ``generate --format tflm``, take a fixed subset; where
the engine and TFLM both run a mutant, their outputs must be the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from edgeq.model import read_model
from edgeq.model.graph import NUMPY_DTYPES
from edgeq.model.io import sample_shape
from tests.conftest import run_cli
from tests.corrupt_models import CONV_INT8, HAND_MADE, byte_mutants

SEED = 20250611
MUTANTS = 48
EVERY = 4  # host-tflm runs every EVERY-th accepted mutant; host-c and generate --format tflm fewer
HOST_C_RUNS = 5
TFLM_GENERATES = 3
MAX_INPUT_BYTES = 1 << 20
EDGEQ = Path(sys.executable).with_name("edgeq")
STRICT = ("-std=c99", "-Wall", "-Wextra", "-Werror")


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    inputs: Path | None  # an .npz for `edgeq run`, None when the inputs cannot be built or are too large


@cache
def _corpus(root: Path) -> dict[str, tuple[int, str]]:
    """Every model written under ``root`` and its `edgeq inspect` outcome (exit code, stderr)."""
    root.mkdir(parents=True, exist_ok=True)
    models = {f"mutant{k:02d}": data for k, data in enumerate(byte_mutants(CONV_INT8.read_bytes(), MUTANTS, SEED))}
    models.update({name: make() for name, make in HAND_MADE.items()})
    outcomes = {}
    for name, data in models.items():
        (root / f"{name}.tflite").write_bytes(data)
        result = run_cli("inspect", str(root / f"{name}.tflite"))
        outcomes[name] = (result.exit_code, result.stderr)
    return outcomes


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, tuple[int, str]]]:
    root = tmp_path_factory.mktemp("fuzz")
    return root, _corpus(root)


@pytest.fixture(scope="module")
def accepted(corpus) -> list[Case]:
    """The models `edgeq inspect` accepts, with inputs for `edgeq run`."""
    root, outcomes = corpus
    cases = []
    for name, (code, _) in outcomes.items():
        if code == 0:
            path = root / f"{name}.tflite"
            cases.append(Case(name, path, _inputs(path, root / f"{name}.npz")))
    return cases


def _inputs(model: Path, out: Path) -> Path | None:
    graph = read_model(model)
    rng = np.random.default_rng(len(graph.tensors))
    arrays = []
    for t in graph.input_tensors:
        sample = sample_shape(t.shape)
        dtype = NUMPY_DTYPES.get(t.dtype)
        if dtype is None or int(np.prod(sample)) * np.dtype(dtype).itemsize > MAX_INPUT_BYTES:
            return None
        arrays.append(rng.integers(-128, 128, (2, *sample)).astype(dtype))
    np.savez(out, *arrays)
    return out


def assert_clean(code: int, stderr: str, what: str) -> None:
    """Success, or a non-zero exit whose stderr ends in its one ``error:`` line; no traceback, no crash."""
    lines = stderr.strip().splitlines()
    assert code >= 0 and code != 139, f"{what}: crashed ({code}): {stderr[-500:]}"
    assert "Traceback" not in stderr, f"{what}: {stderr[-2000:]}"
    assert not any(line.startswith(" ") and line.strip().startswith("^") for line in lines), f"{what}: {stderr}"
    if code != 0:
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], f"{what}: {stderr[-2000:]}"


def edgeq(*args: str) -> subprocess.CompletedProcess:
    cmd = [str(EDGEQ)] if EDGEQ.exists() else [sys.executable, "-m", "edgeq"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=600)


def run_target(case: Case, target: str, out: Path) -> subprocess.CompletedProcess:
    done = edgeq("run", str(case.path), "--target", target, "--input", str(case.inputs), "-o", str(out))
    assert_clean(done.returncode, done.stderr, f"run --target {target} {case.name}")
    return done


def _subset(cases: list[Case], count: int | None = None, every: int = 1) -> list[Case]:
    """Runnable cases: every ``every``-th mutant (at most ``count``) and all hand-made ones."""
    runnable = [c for c in cases if c.inputs is not None]
    mutants = [c for c in runnable if c.name.startswith("mutant")][::every][:count]
    return mutants + [c for c in runnable if not c.name.startswith("mutant")]


def test_inspect(corpus):
    _, outcomes = corpus
    for name, (code, stderr) in outcomes.items():
        assert_clean(code, stderr, f"inspect {name}")
    accepted = [name for name, (code, _) in outcomes.items() if code == 0 and name.startswith("mutant")]
    assert 10 <= len(accepted) < MUTANTS  # the set exercises both outcomes


def test_generate_carray_and_engine(accepted, tmp_path):
    gcc = shutil.which("gcc")
    compiled: dict[str, str] = {}
    engines = 0
    for case in accepted:
        for fmt in ("carray", "engine"):
            out = tmp_path / f"{case.name}_{fmt}"
            result = run_cli("generate", str(case.path), "--format", fmt, "-o", str(out), "--name", "net")
            assert_clean(result.exit_code, result.stderr, f"generate --format {fmt} {case.name}")
            if fmt == "engine" and result.exit_code == 0 and gcc:
                engines += 1
                _compile(gcc, out, compiled)
    assert engines >= 5 or not gcc


def _compile(gcc: str, folder: Path, done: dict[str, str]) -> None:
    """Compile every .c of an engine (sources seen before are not compiled again)."""
    headers = b"".join(p.read_bytes() for p in sorted(folder.glob("*.h")))
    for source in sorted(folder.glob("*.c")):
        key = hashlib.sha256(source.read_bytes() + headers).hexdigest()
        if key not in done:
            cmd = [gcc, *STRICT, "-c", source.name, "-o", os.devnull]
            result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
            done[key] = result.stderr if result.returncode else ""
        assert not done[key], f"{folder.name}/{source.name} does not compile: {done[key][:1000]}"


def test_run_host(accepted, tmp_path):
    for case in _subset(accepted):
        run_target(case, "host", tmp_path / "out.npz")


def test_run_host_tflm_and_host_c(accepted, tmp_path):
    """host-tflm on a subset; host-c on fewer, with the same outputs as TFLM wherever both run."""
    pytest.importorskip("tflite_micro")
    host_c = {c.name for c in _subset(accepted, HOST_C_RUNS, every=EVERY)} if shutil.which("gcc") else set()
    agreed = 0
    for case in _subset(accepted, every=EVERY):
        tflm = run_target(case, "host-tflm", tmp_path / f"{case.name}_tflm.npz")
        if case.name not in host_c:
            continue
        engine = run_target(case, "host-c", tmp_path / f"{case.name}_c.npz")
        if tflm.returncode == 0 and engine.returncode == 0:
            with np.load(tmp_path / f"{case.name}_tflm.npz") as a, np.load(tmp_path / f"{case.name}_c.npz") as b:
                assert [a[k].tobytes() for k in a.files] == [b[k].tobytes() for k in b.files], case.name
            agreed += 1
    assert agreed >= 1 or not host_c


def test_generate_tflm(accepted, tmp_path):
    pytest.importorskip("tflite_micro")
    for case in _subset(accepted, TFLM_GENERATES, every=EVERY):
        out = tmp_path / case.name
        result = run_cli("generate", str(case.path), "--format", "tflm", "-o", str(out), "--name", "net")
        assert_clean(result.exit_code, result.stderr, f"generate --format tflm {case.name}")
