"""``serial``: a board running an MLPerf Tiny / edgeq DUT firmware, driven over a serial port.

The board speaks the EEMBC DUT protocol (``docs/specs/dut-protocol.md``);
the same code drives real MCUs (``/dev/ttyACM0``), QEMU's ``-serial pty`` and any
MLPerf Tiny submission firmware. Outputs come from edgeq's ``raw%`` extension
when the firmware has it, else they are rebuilt from the ``m-results`` floats.

The registry's ``TARGET`` reads the port from ``$EDGEQ_SERIAL_PORT``, the baud
rate from ``$EDGEQ_SERIAL_BAUD`` (default 115200) and the connection from
``$EDGEQ_SERIAL_VIA`` (``direct``, or ``io-manager``: the port is the EEMBC IO
manager board of an energy setup, which relays commands to the DUT) when it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from edgeq.errors import DeviceError, UsageError
from edgeq.measurements import Timing
from edgeq.model import Graph, read_model
from edgeq.model.graph import NUMPY_DTYPES
from edgeq.serialdut.client import DutClient
from edgeq.serialdut.link import VIAS, DeviceRefusedError
from edgeq.serialdut.outputs import inexact_outputs, results_to_outputs, sample_bytes, sample_shape, split_raw
from edgeq.serialdut.parse import InferResult, lap_delta_us
from edgeq.targets.base import Capabilities, Inference
from edgeq.timing import LatencyStats

logger = logging.getLogger("edgeq.serialdut")

ENV_PORT = "EDGEQ_SERIAL_PORT"
ENV_BAUD = "EDGEQ_SERIAL_BAUD"
ENV_VIA = "EDGEQ_SERIAL_VIA"
# Input bytes of the MLPerf Tiny reference benchmarks (what their hosts load per inference).
MLPERF_INPUT_BYTES = {"ic01": 32 * 32 * 3, "kws01": 49 * 10, "vww01": 96 * 96 * 3, "ad01": 640 * 4}
READOUTS = ("auto", "raw", "results")


@dataclass(frozen=True)
class SerialProfile:
    """Latency measured by the board's own timer: one `infer runs warmup` per sample.

    Attributes:
        runs: Timed inferences per window (N of `infer N W`).
        warmup: Warm-up inferences before each window.
        laps: (T0, T1) microsecond timestamps of each window, as the board printed them.
    """

    runs: int
    warmup: int
    laps: tuple[tuple[int, int], ...]
    latency_us: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.runs <= 0 or not self.laps:
            raise UsageError(f"a profile needs runs > 0 and at least one window, got {self.runs} and {len(self.laps)}")
        object.__setattr__(self, "latency_us", tuple(lap_delta_us(t0, t1) / self.runs for t0, t1 in self.laps))

    @property
    def stats(self) -> LatencyStats:
        """Per-inference latency statistics in milliseconds over the windows."""
        return LatencyStats.from_samples(np.asarray(self.latency_us) / 1000.0)


CAPABILITIES = Capabilities(
    summary="a board running the DUT serial protocol (MLPerf Tiny style) on a serial port",
    no_op_times="the DUT protocol reports whole-inference times only",
    options=("port", "baud", "via"),
    board_energy=True,
)


class SerialTarget:
    """A DUT-protocol board on a serial port.

    Args:
        port: Device path or pyserial URL; None reads ``$EDGEQ_SERIAL_PORT`` when the target runs.
        baud: Baud rate; None reads ``$EDGEQ_SERIAL_BAUD`` (default 115200).
        timeout: Seconds per command before the board counts as silent.
        per_inference_s: Seconds added per inference to `infer`'s timeout (slow emulated boards).
        chunk_bytes: Bytes per `db HEX%` command [default: 31; 26 through the IO manager].
        readout: "auto" (raw% if the firmware has it, else m-results), "raw" or "results".
        via: "direct" or "io-manager" (the port is the EEMBC IO manager's, which forwards `dut CMD%`
            to the DUT); None reads ``$EDGEQ_SERIAL_VIA`` (default direct).
    """

    name = "serial"
    capabilities = CAPABILITIES

    def __init__(
        self,
        port: str | None = None,
        baud: int | None = None,
        *,
        timeout: float = 10.0,
        per_inference_s: float = 2.0,
        chunk_bytes: int | None = None,
        readout: str = "auto",
        via: str | None = None,
    ) -> None:
        if readout not in READOUTS:
            raise UsageError(f"unknown readout {readout!r}; readouts: {', '.join(READOUTS)}")
        if via is not None:
            _check_via(via, "via")
        self.port, self.baud, self.readout, self.via = port, baud, readout, via
        self._options = {"timeout": timeout, "per_inference_s": per_inference_s, "chunk_bytes": chunk_bytes}

    @contextlib.contextmanager
    def connect(self) -> Iterator[DutClient]:
        """Open the port, wait until the board is ready, and close the port afterwards."""
        port = self.port or os.environ.get(ENV_PORT)
        if not port:
            raise UsageError(f"the serial target needs a port: --port /dev/ttyACM0 (or set {ENV_PORT})")
        via = self.via or _check_via(os.environ.get(ENV_VIA) or "direct", ENV_VIA)
        with DutClient.open(port, self.baud or _env_baud(), via=via, **self._options) as dut:
            dut.wait_ready()
            yield dut

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run every sample of ``inputs`` on the board (`infer 1 0` each); returns raw outputs.

        Raises:
            DeviceError: The board runs a model with another input size, stops answering, or
                reports an error.
        """
        graph = read_model(model)
        samples = sample_bytes(graph.input_tensors, inputs)
        if not samples:
            return [np.empty((0, *sample_shape(t)), NUMPY_DTYPES.get(t.dtype)) for t in graph.output_tensors]
        per_output: list[list[np.ndarray]] = [[] for _ in graph.outputs]
        with self.connect() as dut:
            check_board(dut, graph)
            readout = self.readout
            for data in samples:
                dut.load_input(data)
                dut.infer(1, 0)
                arrays, readout = _read_outputs(dut, graph, readout)
                for k, array in enumerate(arrays):
                    per_output[k].append(array)
        return [np.stack(o) for o in per_output]

    @contextlib.contextmanager
    def session(self, model: bytes) -> Iterator[SerialSession]:
        """The port open and the board checked; each sample timed with the board's own timer."""
        graph = read_model(model)
        with self.connect() as dut:
            check_board(dut, graph)
            yield SerialSession(dut, graph, self.readout, board_ms, "the board's own timer (m-lap-us)")

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` single inferences of one sample with the board's timer (`infer 1 0` each).

        One window per run keeps the spread, so p99 and max are the board's real tail.
        ``threads`` is ignored (one core).
        """
        graph = read_model(model)
        data = sample_bytes(graph.input_tensors, sample)[0]
        ms = []
        with self.connect() as dut:
            check_board(dut, graph)
            dut.load_input(data)
            if warmup > 0:
                dut.infer(1, warmup)
            for _ in range(runs):
                t0, t1 = _laps(dut, dut.infer(1, 0))
                ms.append(lap_delta_us(t0, t1) / 1000.0)
        return Timing(tuple(ms), latency_source="the board's own timer (m-lap-us) around each inference")

    def time_windows(
        self,
        inputs: Sequence[np.ndarray] | Sequence[bytes],
        runs: int = 10,
        warmup: int = 1,
        model: bytes | None = None,
    ) -> SerialProfile:
        """Time ``runs`` inferences after ``warmup`` on each sample with the board's timer.

        Args:
            inputs: One (N, ...) array per model input (then ``model`` is needed), or raw
                sample bytes such as MLPerf Tiny ``.bin`` files.
            runs: Timed inferences per sample (MLPerf Tiny chooses N so a window lasts >= 10 s).
            warmup: Untimed inferences before each window.
            model: The .tflite bytes; when given, the board's input size is checked first.
        """
        samples = _as_samples(inputs, model)
        laps = []
        with self.connect() as dut:
            if model is not None:
                check_board(dut, read_model(model))
            for data in samples:
                dut.load_input(data)
                laps.append(_laps(dut, dut.infer(runs, warmup)))
        return SerialProfile(runs, warmup, tuple(laps))

    def dut_results(self, samples: Iterable[bytes]) -> list[tuple[float, ...]]:
        """The board's own m-results for each raw sample (`infer 1 0`): class scores, or the MSE for ad01."""
        out = []
        with self.connect() as dut:
            for data in samples:
                dut.load_input(data)
                out.append(dut.infer(1, 0).results)
        return out


class SerialSession:
    """One sample at a time on a DUT-protocol board: load it, `infer 1 0`, read the outputs back.

    ``to_ms`` turns the board's lap (t0, t1 in us) into (milliseconds, estimated).
    """

    def __init__(
        self, dut: DutClient, graph: Graph, readout: str, to_ms: Callable[[int, int], tuple[float, bool]], source: str
    ) -> None:
        self.dut, self.graph, self.readout, self.to_ms, self.source = dut, graph, readout, to_ms, source

    def infer(self, sample: list[np.ndarray]) -> Inference:
        self.dut.load_input(sample_bytes(self.graph.input_tensors, [np.asarray(x)[None] for x in sample])[0])
        t0, t1 = _laps(self.dut, self.dut.infer(1, 0))
        outputs, self.readout = _read_outputs(self.dut, self.graph, self.readout)
        ms, estimated = self.to_ms(t0, t1)
        return Inference(outputs, ms, estimated)


def board_ms(t0_us: int, t1_us: int) -> tuple[float, bool]:
    """A real board's lap in milliseconds (measured)."""
    return lap_delta_us(t0_us, t1_us) / 1000.0, False


def check_board(dut: DutClient, graph: Graph) -> None:
    """Check that the board's model takes as many input bytes as ``graph``'s inputs.

    The size comes from an edgeq firmware's `help%` text, or from the MLPerf Tiny model id;
    other firmwares are not checked.

    Raises:
        DeviceError: The sizes differ.
    """
    nbytes = sum(t.nbytes for t in graph.input_tensors)
    profile = dut.profile()
    expected = dut.input_bytes_from_help() or MLPERF_INPUT_BYTES.get(profile.model_id)
    if expected is None:
        logger.info("cannot check the input size of model %r on %s; loading anyway", profile.model_id, dut.port_name)
    elif expected != nbytes:
        raise DeviceError(
            f"the board on {dut.port_name} runs model {profile.model_id!r} taking {expected} input bytes, "
            f"but this model's inputs take {nbytes} bytes; flash the firmware built for this model"
        )


def _env_baud() -> int:
    text = os.environ.get(ENV_BAUD, "115200")
    if not text.isdigit() or int(text) <= 0:
        raise UsageError(f"{ENV_BAUD}={text!r} is not a baud rate; use e.g. 115200 or 921600")
    return int(text)


def _check_via(via: str, what: str) -> str:
    if via not in VIAS:
        raise UsageError(f"{what}={via!r} is not a DUT connection; use one of {', '.join(VIAS)}")
    return via


def _read_outputs(dut: DutClient, graph: Graph, readout: str) -> tuple[list[np.ndarray], str]:
    """The last inference's outputs, and the readout to use from now on ("auto" settles on one)."""
    if readout in ("auto", "raw"):
        try:
            return split_raw(dut.raw(), graph.output_tensors), "raw"
        except DeviceRefusedError as exc:
            if readout == "raw" or not exc.unknown_command:
                raise
        _warn_results_readout(dut, graph)
    return results_to_outputs(dut.results(), graph.output_tensors), "results"


def _warn_results_readout(dut: DutClient, graph: Graph) -> None:
    inexact = inexact_outputs(graph.output_tensors)
    if inexact:
        logger.warning(
            "the firmware on %s has no raw%% command; outputs are rebuilt from its 3-decimal m-results, "
            "exact only for output scales above 0.002, not for %s",
            dut.port_name,
            ", ".join(inexact),
        )
    else:
        logger.info("the firmware on %s has no raw%% command; outputs are rebuilt from m-results", dut.port_name)


def _as_samples(inputs: Sequence[np.ndarray] | Sequence[bytes], model: bytes | None) -> list[bytes]:
    if inputs and all(isinstance(x, (bytes, bytearray)) for x in inputs):
        return [bytes(x) for x in inputs]
    if model is None:
        raise UsageError("profile() needs the model to lay out array inputs; pass model= or raw sample bytes")
    return sample_bytes(read_model(model).input_tensors, list(inputs))  # type: ignore[arg-type]


def _laps(dut: DutClient, result: InferResult) -> tuple[int, int]:
    if result.t0_us is None or result.t1_us is None:
        raise DeviceError(
            f"the board on {dut.port_name} printed no m-lap-us timestamps: it is in energy mode; "
            "measure energy with a power monitor or flash a performance-mode firmware"
        )
    return result.t0_us, result.t1_us


def make_target(name: str, port: str | None = None, baud: int | None = None, via: str | None = None) -> SerialTarget:
    """The ``serial`` target on ``port`` (default ``$EDGEQ_SERIAL_PORT``) at ``baud``, ``via`` an IO manager or not."""
    return SerialTarget(port, baud, via=via)
