"""``host-c``: the edgeq compiled engine, built with the host C compiler and run as a process.

Builds are cached by the model's SHA-256 and edgeq's version under
``$EDGEQ_CACHE`` (default ``~/.cache/edgeq``), so repeated runs do not recompile;
the cache is safe under parallel use (:mod:`edgeq.cache`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.cache import cache_dir, cached_file, cached_folder
from edgeq.codegen.engine.sources import generator_fingerprint
from edgeq.errors import DependencyError, EdgeqError
from edgeq.measurements import Memory, Timing

CFLAGS = ("-std=c99", "-O3", "-flto", "-Wall", "-Wextra", "-Werror")


DRIVERS = {"engine": "net_host.c", "timing": "net_timing.c", "ops": "net_op_timing.c"}


def build_host_engine(model: bytes, extra_flags: tuple[str, ...] = (), driver: str = "engine") -> Path:
    """Generate and compile the engine for ``model`` with a driver; returns the executable.

    ``engine`` streams raw samples stdin -> stdout; ``timing`` times repeated invokes of one sample;
    ``ops`` times every kernel call (build it with ``-DEDGEQ_PROFILE_OPS``). Sources and programs are
    cached (:mod:`edgeq.cache`): built once, whatever number of edgeq processes ask at the same time.
    """
    key = hashlib.sha256(model + generator_fingerprint() + " ".join(extra_flags).encode()).hexdigest()[:20]
    folder = cached_folder(cache_dir() / "host-c" / key, lambda stage: _write_sources(model, stage))
    compiler = shutil.which(os.environ.get("CC", "gcc"))
    if compiler is None:
        raise DependencyError("no C compiler found (set CC or apt-get install gcc)")
    others = set(DRIVERS.values()) - {DRIVERS[driver]}
    sources = [str(p) for p in sorted(folder.glob("*.c")) if p.name not in others]
    return cached_file(folder / driver, lambda out: _compile(compiler, [*CFLAGS, *extra_flags], sources, out))


def _compile(compiler: str, flags: list[str], sources: list[str], out: Path) -> None:
    done = procs.run([compiler, *flags, "-o", str(out), *sources], capture_output=True, text=True)
    if done.returncode != 0:
        first = next((line for line in done.stderr.splitlines() if "error" in line), None)
        raise EdgeqError(f"compiling the engine failed: {first or done.stderr.strip()[:200] or done.returncode}")


def _write_sources(model: bytes, folder: Path) -> dict[str, str]:
    from edgeq.codegen.context import model_context
    from edgeq.codegen.engine.build import build_engine
    from edgeq.codegen.engine.hooks import engine_calls
    from edgeq.model import read_model
    from edgeq.render import render

    graph = read_model(model)
    ctx = model_context(graph, "model.tflite", "net")
    files = dict(build_engine(graph, ctx).files)
    files[DRIVERS["engine"]] = render("engine/host_driver.c.j2", m=ctx)
    files[DRIVERS["timing"]] = render("engine/host_timing.c.j2", m=ctx)
    calls = len(engine_calls(files["net.c"]))
    files[DRIVERS["ops"]] = render("engine/host_op_timing.c.j2", m=ctx, n_calls=calls)
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return files


class HostCTarget:
    name = "host-c"

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        from edgeq.model import read_model

        graph = read_model(model)
        exe = build_host_engine(model)
        count = len(inputs[0])
        stream = b"".join(b"".join(np.ascontiguousarray(x[n]).tobytes() for x in inputs) for n in range(count))
        done = procs.run([str(exe)], input=stream, capture_output=True, timeout=3600)
        if done.returncode != 0:
            from edgeq.targets.tflm_worker import failure_message

            stderr = done.stderr.decode(errors="replace")
            raise EdgeqError(failure_message("the compiled engine", done.returncode, stderr))  # signals by name
        return _split_outputs(done.stdout, graph, count)

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` invokes of the compiled engine (clock_gettime around each, in the child)."""
        from edgeq.targets.child import run_child

        exe = build_host_engine(model, driver="timing")
        stream = b"".join(np.ascontiguousarray(x).tobytes() for x in sample)
        done = run_child([str(exe), str(runs), str(warmup)], stdin=stream, what="the compiled engine")
        ns, rss = _timing_output(done.stdout.decode(), runs)
        return Timing(
            tuple((ns / 1e6).tolist()),
            latency_source="clock_gettime around each invoke in the compiled engine (host gcc -O3 -flto)",
            memory=Memory(ram_bytes=_arena_bytes(exe.parent), peak_rss_bytes=rss),
        )


def _split_outputs(raw: bytes, graph, count: int) -> list[np.ndarray]:
    from edgeq.model.graph import NUMPY_DTYPES

    outs = graph.output_tensors
    per_sample = sum(t.nbytes for t in outs)
    if len(raw) != per_sample * count:
        raise EdgeqError(f"the compiled engine wrote {len(raw)} bytes, expected {per_sample * count}")
    results: list[list[np.ndarray]] = [[] for _ in outs]
    pos = 0
    for _ in range(count):
        for k, t in enumerate(outs):
            results[k].append(
                np.frombuffer(raw[pos : pos + t.nbytes], NUMPY_DTYPES[t.dtype]).reshape(
                    t.shape[1:] if t.shape and t.shape[0] == 1 else t.shape
                )
            )
            pos += t.nbytes
    return [np.stack(r) for r in results]


TARGET = HostCTarget()


def _arena_bytes(folder: Path) -> int | None:
    """NET_ARENA_BYTES from the generated header."""
    import re

    found = re.search(r"#define NET_ARENA_BYTES (\d+)u", (folder / "net.h").read_text())
    return int(found.group(1)) if found else None


def _timing_output(text: str, runs: int) -> tuple[np.ndarray, int | None]:
    """The timing driver's ``runs`` lines of nanoseconds and its closing ``vmhwm_kb N`` line."""
    lines = text.split("\n")
    try:
        ns = np.array(lines[:runs], dtype=np.float64)
        kb = int(lines[runs].removeprefix("vmhwm_kb "))
    except (ValueError, IndexError):
        raise EdgeqError(f"the compiled engine's timing driver wrote unexpected output: {text[:80]!r}") from None
    return ns, (kb * 1024 if kb > 0 else None)
