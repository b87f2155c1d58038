"""``host-c``: the edgeq compiled engine, built with the host C compiler and run as a process.

Builds are cached by the model's SHA-256 and the generator's sources under
``$EDGEQ_CACHE`` (default ``~/.cache/edgeq``), so repeated runs do not recompile;
the cache is safe under parallel use (:mod:`edgeq.cache`).

This is the one target with a per-op breakdown: the generated call sequence
brackets every kernel call with ``EQ_OP_BEGIN(i)`` / ``EQ_OP_END(i)``, empty
unless ``EDGEQ_PROFILE_OPS`` is defined, and the ``ops`` driver times each call
with ``clock_gettime``. (LiteRT's Python interpreter has no per-op profiler: its
wrapper exposes no profiler API, and a C++ profiler cannot be installed from
Python; the tflite-micro wrapper times whole invokes only.)
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.cache import cache_dir, cached_file, cached_folder
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.hooks import engine_calls
from edgeq.codegen.engine.sources import generator_fingerprint
from edgeq.errors import DependencyError, EdgeqError
from edgeq.measurements import Memory, OpTime, Timing
from edgeq.model import read_model
from edgeq.model.io import model_inputs, model_outputs, pack_samples, split_samples
from edgeq.render import render
from edgeq.targets.base import Capabilities, TimedSession
from edgeq.worker import failure_message, run_child

CAPABILITIES = Capabilities(summary="the edgeq compiled engine, built with this machine's C compiler", op_times=True)
CFLAGS = ("-std=c99", "-O3", "-flto", "-Wall", "-Wextra", "-Werror")
IDENT = "net"
DRIVERS = {"engine": f"{IDENT}_host.c", "timing": f"{IDENT}_timing.c", "ops": f"{IDENT}_op_timing.c"}
TIMEOUT_S = 3600.0


class HostCTarget:
    name = "host-c"
    capabilities = CAPABILITIES

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Every sample through the engine in one process: samples in on stdin, raw outputs out on stdout."""
        graph = read_model(model)
        exe = build_host_engine(model)
        stream = b"".join(pack_samples(model_inputs(graph), inputs))
        done = procs.run([str(exe)], input=stream, capture_output=True, timeout=TIMEOUT_S)
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")
            raise EdgeqError(failure_message("the compiled engine", done.returncode, stderr))
        return split_samples(done.stdout, model_outputs(graph), len(inputs[0]), "the compiled engine")

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` invokes of the compiled engine (clock_gettime around each, in the child)."""
        exe = build_host_engine(model, driver="timing")
        stream = b"".join(np.ascontiguousarray(x).tobytes() for x in sample)
        done = run_child([str(exe), str(runs), str(warmup)], stdin=stream, what="the compiled engine")
        ns, rss = timing_output(done.stdout.decode(), runs)
        return Timing(
            tuple((ns / 1e6).tolist()),
            latency_source="clock_gettime around each invoke in the compiled engine (host gcc -O3 -flto)",
            memory=Memory(ram_bytes=_arena_bytes(exe.parent), peak_rss_bytes=rss),
        )

    def op_times(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int) -> list[OpTime]:
        """Mean and median microseconds of every kernel call over ``runs`` invokes of ``sample``."""
        exe = build_host_engine(model, ("-DEDGEQ_PROFILE_OPS",), driver="ops")
        calls = engine_calls((exe.parent / f"{IDENT}.c").read_text())
        if not calls:
            return []
        stream = b"".join(np.ascontiguousarray(x).tobytes() for x in sample)
        what = "the compiled engine's op timing driver"
        done = run_child([str(exe), str(runs), str(warmup)], stdin=stream, what=what)
        us = call_times(done.stdout.decode(), runs, len(calls)) / 1e3
        means, medians = us.mean(axis=0), np.median(us, axis=0)
        operators = read_model(model).operators
        source = f"clock_gettime around each kernel call of the compiled engine (host gcc -O3 -flto), {runs} runs"
        out = []
        for (position, op_index, text), mean, p50 in zip(calls, means, medians):
            name = operators[op_index].name if 0 <= op_index < len(operators) else text
            out.append(OpTime(position, op_index, name, float(mean), float(p50), source, "" if text == name else text))
        return out

    @contextlib.contextmanager
    def session(self, model: bytes) -> Iterator[TimedSession]:
        """The engine as a shared library loaded into this process (ctypes); each sample timed with the wall clock.

        The library's arena is a global: one session per model at a time in a process.
        """
        graph = read_model(model)
        ins, outs = model_inputs(graph), model_outputs(graph)
        lib = ctypes.CDLL(str(build_host_library(model)))
        lib.net_invoke.restype = ctypes.c_int
        lib.net_input.restype = lib.net_output.restype = ctypes.c_void_p
        lib.net_input.argtypes = lib.net_output.argtypes = [ctypes.c_int]
        inputs = [lib.net_input(i) for i in range(len(ins))]
        outputs = [lib.net_output(k) for k in range(len(outs))]

        def invoke(sample: list[np.ndarray]) -> list[np.ndarray]:
            for address, spec, x in zip(inputs, ins, sample):
                ctypes.memmove(address, np.ascontiguousarray(x, spec.numpy_dtype).ctypes.data, spec.nbytes)
            if lib.net_invoke() != 0:
                raise EdgeqError("the compiled engine's invoke failed")
            return [
                np.frombuffer(ctypes.string_at(address, o.nbytes), o.numpy_dtype).reshape(o.sample_shape)
                for address, o in zip(outputs, outs)
            ]

        yield TimedSession(invoke, "wall clock around each invoke (the compiled engine as a shared library, gcc -O3)")


def make_target(name: str) -> HostCTarget:
    """The ``host-c`` target (no options)."""
    return HostCTarget()


def build_host_engine(model: bytes, extra_flags: tuple[str, ...] = (), driver: str = "engine") -> Path:
    """Generate and compile the engine for ``model`` with a driver; returns the executable.

    ``engine`` streams raw samples stdin -> stdout; ``timing`` times repeated invokes of one sample;
    ``ops`` times every kernel call (build it with ``-DEDGEQ_PROFILE_OPS``). Sources and programs are
    cached (:mod:`edgeq.cache`): built once, whatever number of edgeq processes ask at the same time.
    """
    key = hashlib.sha256(model + generator_fingerprint() + " ".join(extra_flags).encode()).hexdigest()[:20]
    folder = cached_folder(cache_dir() / "host-c" / key, lambda stage: write_sources(model, stage))
    compiler = shutil.which(os.environ.get("CC", "gcc"))
    if compiler is None:
        raise DependencyError("no C compiler found (set CC or apt-get install gcc)")
    others = set(DRIVERS.values()) - {DRIVERS[driver]}
    sources = [str(p) for p in sorted(folder.glob("*.c")) if p.name not in others]
    return cached_file(folder / driver, lambda out: _compile(compiler, [*CFLAGS, *extra_flags], sources, out))


def build_host_library(model: bytes) -> Path:
    """The engine for ``model`` as a shared library (``libnet.so``: net_invoke, net_input, net_output); cached."""
    exe = build_host_engine(model)  # the sources' folder, and a compiler that works
    compiler = shutil.which(os.environ.get("CC", "gcc")) or "gcc"
    sources = [str(p) for p in sorted(exe.parent.glob("*.c")) if p.name not in DRIVERS.values()]
    flags = [*CFLAGS, "-shared", "-fPIC"]
    return cached_file(exe.parent / f"lib{IDENT}.so", lambda out: _compile(compiler, flags, sources, out))


def _compile(compiler: str, flags: list[str], sources: list[str], out: Path) -> None:
    done = procs.run([compiler, *flags, "-o", str(out), *sources], capture_output=True, text=True)
    if done.returncode != 0:
        first = next((line for line in done.stderr.splitlines() if "error" in line), None)
        raise EdgeqError(f"compiling the engine failed: {first or done.stderr.strip()[:200] or done.returncode}")


def write_sources(model: bytes, folder: Path) -> dict[str, str | bytes]:
    """The engine for ``model`` and its three host drivers, written into ``folder``; returns them by file name."""
    graph = read_model(model)
    ctx = model_context(graph, "model.tflite", IDENT)
    files: dict[str, str | bytes] = dict(build_engine(graph, ctx).files)
    files[DRIVERS["engine"]] = render("engine/host_driver.c.j2", m=ctx)
    files[DRIVERS["timing"]] = render("engine/host_timing.c.j2", m=ctx)
    engine_c = files[f"{IDENT}.c"]
    calls = len(engine_calls(engine_c if isinstance(engine_c, str) else engine_c.decode()))
    files[DRIVERS["ops"]] = render("engine/host_op_timing.c.j2", m=ctx, n_calls=calls)
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return files


def _arena_bytes(folder: Path) -> int | None:
    """NET_ARENA_BYTES from the generated header."""
    found = re.search(rf"#define {IDENT.upper()}_ARENA_BYTES (\d+)u", (folder / f"{IDENT}.h").read_text())
    return int(found.group(1)) if found else None


def timing_output(text: str, runs: int) -> tuple[np.ndarray, int | None]:
    """The timing driver's ``runs`` lines of nanoseconds and its closing ``vmhwm_kb N`` line."""
    lines = text.split("\n")
    try:
        ns = np.array(lines[:runs], dtype=np.float64)
        kb = int(lines[runs].removeprefix("vmhwm_kb "))
    except (ValueError, IndexError):
        raise EdgeqError(f"the compiled engine's timing driver wrote unexpected output: {text[:80]!r}") from None
    return ns, (kb * 1024 if kb > 0 else None)


def call_times(text: str, runs: int, count: int) -> np.ndarray:
    """The op timing driver's output as a (runs, calls) array of nanoseconds; EdgeqError if it has another shape."""
    try:
        rows = [[float(v) for v in line.split()] for line in text.strip().split("\n")]
        ns = np.array(rows, dtype=np.float64)
    except ValueError:
        ns = np.empty(0)
    if ns.shape != (runs, count):
        raise EdgeqError(f"the op timing driver wrote unexpected output: {text[:80]!r}")
    return ns
