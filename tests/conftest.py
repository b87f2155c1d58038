"""Shared test fixtures: paths of checked-in models and a CLI runner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

# As edgeq.farm.cluster.import_ray does: Ray reads it when first imported, here possibly by a test.
os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")

FIXTURES = Path(__file__).parent / "fixtures"
MODELS = FIXTURES / "models"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str) -> CliResult:
    """Run ``edgeq ARGS`` in-process with click's CliRunner."""
    from edgeq.cli import cli
    from edgeq.cli.common import run_main

    runner = CliRunner()
    holder: dict[str, int] = {}

    def invoke(argv):
        holder["rc"] = run_main(cli, list(argv))

    result = runner.invoke(_Wrapper(invoke), list(args), catch_exceptions=False)
    return CliResult(holder.get("rc", result.exit_code), result.stdout, result.stderr)


class _Wrapper:
    """Lets CliRunner capture stdout/stderr around edgeq's own main()."""

    def __init__(self, func):
        self.func = func
        self.name = "edgeq"

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        self.func(args or [])
        return 0


def generated_schema():
    return pytest.importorskip("ai_edge_litert.schema_py_generated")


def repack(data: bytes, edit) -> bytes:
    """Unpack ``data`` with LiteRT's generated object API, apply ``edit(model)``, pack again."""
    fbs = generated_schema()
    import flatbuffers

    model = fbs.ModelT.InitFromPackedBuf(data, 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def tiny_data(tmp_path, rng):
    """60 calibration samples for tests/fixtures/models/tiny_cnn.keras (12x12x3 in [0, 1])."""
    path = tmp_path / "calib.npy"
    np.save(path, rng.random((60, 12, 12, 3), dtype=np.float32))
    return path


@pytest.fixture(scope="session", autouse=True)
def _engine_cache(tmp_path_factory):
    """Compiled engines go to a per-session folder, not the user's ~/.cache/edgeq."""
    import os

    old = os.environ.get("EDGEQ_CACHE")
    os.environ["EDGEQ_CACHE"] = str(tmp_path_factory.mktemp("edgeq-cache"))
    yield
    if old is None:
        os.environ.pop("EDGEQ_CACHE", None)
    else:
        os.environ["EDGEQ_CACHE"] = old
