"""Differential test against the tflite-micro interpreter: edgeq accepts what TFLM accepts, with the same result.

Valid int8 fixtures are rewritten the ways older converters and other tools
write them (:mod:`tests.tflm_rewrites`). For every (model, rewrite) TFLM
allocates and invokes on seeded random inputs, then:

- TFLM accepts: edgeq reads the model, ``inspect`` and ``edgetpu-check``
  analyse it, ``generate`` writes the C array and the engine, and the compiled
  engine (host-c) gives bit-identical outputs;
- TFLM refuses: edgeq refuses too, with an EdgeqError of one line;
- a broken bound (:data:`BOUNDS`): edgeq refuses whatever TFLM does (TFLM
  does not check these; it reads past the data or crashes);
- constants stored after the flatbuffer (:data:`EXTERNAL`): TFLM ignores
  Buffer.offset and runs without those values; edgeq reads them (its engine
  matches TFLM on the original model) and refuses the TFLM paths.

``python scripts/tflm_parity_table.py`` prints the table of verdicts that
docs/model-compatibility.md shows. Compiled engines whose C sources are the
same as an already-run rewrite of the same model are not compiled again: the
same C gives the same outputs.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")
pytest.importorskip("ai_edge_litert.schema_py_generated")

from edgeq.codegen import generate  # noqa: E402
from edgeq.edgetpu.check import check_model  # noqa: E402
from edgeq.errors import EdgeqError, ModelFormatError, UnsupportedError  # noqa: E402
from edgeq.model import read_model  # noqa: E402
from edgeq.model.analysis import inspect_model  # noqa: E402
from edgeq.model.io import model_inputs  # noqa: E402
from edgeq.targets import get_target  # noqa: E402
from edgeq.worker import tflm_outputs  # noqa: E402
from tests.tflm_rewrites import MODELS, REWRITES  # noqa: E402

ARENA = 1 << 20
SAMPLES = 2

ACCEPTED = (
    "original",
    "stale_bias_axis",
    "stale_per_tensor_axis",
    "bias_empty_quantization",
    "bias_no_quantization",
    "bias_no_zero_point",
    "single_zero_point",
    "deprecated_opcode_only",
    "builtin_opcode_only",
    "both_opcodes",
    "no_signature_defs",
    "no_subgraph_name",
    "no_description",
    "no_metadata",
    "extra_metadata",
    "extra_buffers",
)
"""Rewrites TFLM runs on every model with the original's result: edgeq must run them too."""

REFUSED = ("no_zero_point", "wrong_weight_axis", "placeholder_opcode", "bad_tensor_index", "bad_opcode_index")
"""Rewrites TFLM refuses on the models they change."""

BOUNDS = ("bad_buffer_index", "short_constant", "truncated_external_buffer")
"""Broken bounds edgeq refuses whatever TFLM does (it reads past the data, or crashes)."""

EXTERNAL = ("external_buffers",)
"""Constants after the flatbuffer: TFLM runs without them, edgeq reads them."""

FORMATS = ("carray", "engine")  # "tflm" measures the arena with TFLM: test_tflm_format runs it on one model


@dataclass
class Case:
    """One (rewrite, model): TFLM's verdict and outputs, edgeq's verdict and its engine's outputs."""

    rewrite: str
    model: str
    data: bytes
    tflm: list[np.ndarray] | None = None
    tflm_error: str | None = None
    edgeq_error: EdgeqError | None = None
    engine: list[np.ndarray] | None = None
    engine_shared: str | None = None  # the rewrite whose identical engine C gave ``engine``

    @property
    def same(self) -> bool | None:
        if self.tflm is None or self.engine is None:
            return None
        return all(np.array_equal(a, b) for a, b in zip(self.tflm, self.engine, strict=True))

    def edgeq_verdict(self) -> str:
        if self.edgeq_error is not None:
            return f"refuses ({type(self.edgeq_error).__name__})"
        return "runs, same outputs" if self.same else "runs, DIFFERENT outputs"


@dataclass
class Parity:
    """Runs and remembers the cases (one TFLM run per distinct file, one engine build per distinct C)."""

    folder: Path
    cases: dict[tuple[str, str], Case] = field(default_factory=dict)
    _tflm: dict[str, tuple[list[np.ndarray] | None, str | None]] = field(default_factory=dict)
    _engines: dict[str, tuple[str, list[np.ndarray]]] = field(default_factory=dict)

    def inputs(self, model: str) -> list[np.ndarray]:
        graph = read_model(MODELS[model].read_bytes())
        rng = np.random.default_rng(sum(model.encode()))
        return [
            rng.integers(-128, 128, size=(SAMPLES, *io.sample_shape)).astype(io.dtype) for io in model_inputs(graph)
        ]

    def case(self, rewrite: str, model: str) -> Case:
        key = (rewrite, model)
        if key not in self.cases:
            self.cases[key] = self._run(rewrite, model)
        return self.cases[key]

    def tflm(self, data: bytes, model: str) -> tuple[list[np.ndarray] | None, str | None]:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._tflm:
            try:
                self._tflm[digest] = tflm_outputs(data, self.inputs(model), ARENA), None
            except EdgeqError as exc:
                self._tflm[digest] = None, str(exc)
        return self._tflm[digest]

    def _run(self, rewrite: str, model: str) -> Case:
        data = REWRITES[rewrite](MODELS[model].read_bytes())
        case = Case(rewrite, model, data)
        case.tflm, case.tflm_error = self.tflm(data, model)
        try:
            case.engine_shared, case.engine = self._edgeq(rewrite, model, data)
        except EdgeqError as exc:
            case.edgeq_error = exc
        return case

    def _edgeq(self, rewrite: str, model: str, data: bytes) -> tuple[str, list[np.ndarray]]:
        """Read, inspect, edgetpu-check, generate; the engine's outputs (and which rewrite built that engine)."""
        graph = read_model(data)
        inspect_model(graph)
        check_model(graph)
        folder = self.folder / model / rewrite
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.tflite"
        path.write_bytes(data)
        for fmt in FORMATS:
            generate(path, fmt, folder / fmt, name="model")
        sources = sorted((folder / "engine").glob("*.[ch]"))
        key = model + hashlib.sha256(b"".join(p.name.encode() + _code(p) for p in sources)).hexdigest()
        if key not in self._engines:
            self._engines[key] = rewrite, get_target("host-c").run(data, self.inputs(model))
        return self._engines[key]

    def table(self) -> list[tuple[str, str, str, str]]:
        """(rewrite, model, TFLM's verdict, edgeq's verdict) for every case."""
        rows = []
        for rewrite in REWRITES:
            for model in MODELS:
                case = self.case(rewrite, model)
                tflm = "runs" if case.tflm_error is None else "refuses"
                if rewrite in EXTERNAL and case.tflm is not None:
                    original = self.case("original", model).tflm
                    same = all(np.array_equal(a, b) for a, b in zip(case.tflm, original or [], strict=True))
                    tflm = "runs" + ("" if same else " without the data")
                edgeq = case.edgeq_verdict()
                if rewrite in BOUNDS:
                    tflm += " (unchecked; varies)" if case.tflm_error is None else " (crash or check; varies)"
                if rewrite in EXTERNAL and case.edgeq_error is None:
                    original = self.case("original", model).tflm or []
                    same = all(np.array_equal(a, b) for a, b in zip(original, case.engine or [], strict=True))
                    edgeq = f"reads the data: {'same' if same else 'DIFFERENT'} outputs as TFLM on the original"
                    if read_model(case.data).external_buffers:
                        edgeq += "; tflm paths refuse"
                rows.append((rewrite, model, tflm, edgeq))
        return rows


def _code(path: Path) -> bytes:
    """A generated source without the lines naming the model file's SHA-256 (metadata rewrites change it)."""
    return b"\n".join(line for line in path.read_bytes().splitlines() if b"sha256" not in line)


@pytest.fixture(scope="module")
def parity(tmp_path_factory) -> Parity:
    return Parity(tmp_path_factory.mktemp("parity"))


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


CASES = [(r, m) for r in REWRITES for m in MODELS if r not in (*BOUNDS, *EXTERNAL)]


@pytest.mark.parametrize(("rewrite", "model"), CASES)
def test_edgeq_agrees_with_tflm(parity, rewrite, model):
    case = parity.case(rewrite, model)
    if rewrite in ACCEPTED:
        assert case.tflm_error is None, f"TFLM no longer runs {rewrite} on {model}: {case.tflm_error}"
    if case.tflm_error is None:
        assert case.edgeq_error is None, f"TFLM runs it, edgeq refuses: {case.edgeq_error}"
        assert case.same, f"engine outputs differ from TFLM's ({rewrite} on {model})"
    else:
        assert case.edgeq_error is not None, f"TFLM refuses ({case.tflm_error}), edgeq accepts"
        one_line(case.edgeq_error)


def test_refused_rewrites_are_refused_by_tflm(parity):
    """Each rewrite of REFUSED makes TFLM refuse at least one model (else it proves nothing)."""
    for rewrite in REFUSED:
        assert any(parity.case(rewrite, m).tflm_error for m in MODELS), rewrite


@pytest.mark.parametrize("rewrite", BOUNDS)
@pytest.mark.parametrize("model", MODELS)
def test_broken_bounds_are_refused(parity, rewrite, model):
    case = parity.case(rewrite, model)
    assert isinstance(case.edgeq_error, ModelFormatError), case.edgeq_error
    one_line(case.edgeq_error)


@pytest.mark.parametrize("model", MODELS)
def test_external_buffers_are_read(parity, model):
    """Constants after the flatbuffer: the engine computes what TFLM computes on the inline original."""
    case = parity.case("external_buffers", model)
    assert case.edgeq_error is None, case.edgeq_error
    original = parity.case("original", model)
    assert all(np.array_equal(a, b) for a, b in zip(original.tflm or [], case.engine or [], strict=True))


def test_external_buffers_refused_by_tflm_paths(parity, tmp_path):
    """TFLM would run without the data: the tflm format and the host-tflm target refuse in one line."""
    data = parity.case("external_buffers", "fc").data
    path = tmp_path / "external.tflite"
    path.write_bytes(data)
    with pytest.raises(UnsupportedError, match="after the flatbuffer") as exc:
        generate(path, "tflm", tmp_path / "tflm")
    one_line(exc.value)
    with pytest.raises(UnsupportedError, match="after the flatbuffer") as exc:
        get_target("host-tflm").run(data, parity.inputs("fc"))
    assert "--target host-c" in one_line(exc.value)


def test_tflm_format(parity, tmp_path):
    """The TFLM project (arena measured with tflite-micro) for the conv model's accepted rewrites."""
    for rewrite in ("stale_bias_axis", "bias_no_quantization", "single_zero_point", "deprecated_opcode_only"):
        path = tmp_path / f"{rewrite}.tflite"
        path.write_bytes(parity.case(rewrite, "conv").data)
        report = generate(path, "tflm", tmp_path / rewrite)
        assert report.arena_bytes


@pytest.mark.parametrize(("rewrite", "status"), [("stale_bias_axis", 0), ("bad_buffer_index", 1)])
def test_inspect_cli(parity, tmp_path, rewrite, status):
    """``edgeq inspect`` runs the stale-axis model of the report and refuses a broken one with one ``error:`` line."""
    path = tmp_path / f"{rewrite}.tflite"
    path.write_bytes(parity.case(rewrite, "conv").data)
    done = subprocess.run(
        [sys.executable, "-m", "edgeq", "inspect", str(path)], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode != 0) == bool(status), done.stderr
    if status:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr


def test_table_covers_every_case(parity):
    rows = parity.table()
    assert len(rows) == len(REWRITES) * len(MODELS)
    assert all("DIFFERENT" not in edgeq for _, _, _, edgeq in rows if "refuses" not in edgeq)
