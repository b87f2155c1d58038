"""edgeq board runner: time or run a .tflite model with the TFLite runtime this machine has.

edgeq copies this one file, a model and a sample into a temp folder on a Linux
board (Raspberry Pi and the like) over SSH and runs it with the board's Python.
It is self-contained and does not import edgeq: it needs Python 3.9+, numpy
(1.x or 2.x) and one of ``ai_edge_litert`` (pip install ai-edge-litert),
``tflite_runtime`` (pip install tflite-runtime, older images) or ``tensorflow``,
tried in that order. It also works on its own::

    python3 runner.py profile FOLDER [--runs 100] [--warmup 10] [--threads 1]
    python3 runner.py run FOLDER [--threads 1]
    python3 runner.py info

FOLDER holds ``model.tflite`` and ``in.npz`` (arrays ``arr_0``, ``arr_1``, ...,
one per model input, in the model's dtypes, as ``numpy.savez`` writes them).

- ``profile`` reshapes each array to its input's shape (without ``in.npz`` it
  uses zeros), invokes WARMUP times, then times RUNS invokes one by one with
  ``time.perf_counter_ns``, and prints a JSON summary on stdout.
- ``run`` reads each array as a batch with a leading sample axis and runs the
  samples one at a time.
- ``info`` prints the board and runtime description below as JSON.

``profile`` and ``run`` write ``FOLDER/out.npz``:

- ``ms``: float64, milliseconds of each timed invoke (empty for ``run``);
- ``rss``: peak resident memory of this process in bytes (``VmHWM``; 0 if unknown);
- ``info``: JSON text with ``machine`` (uname -m), ``model`` (/proc/device-tree/model
  or null), ``kernel``, ``python``, ``cpu_count``, ``numpy``, ``runtime`` (the pip
  package), ``runtime_version`` and ``threads``;
- ``out_0``, ``out_1``, ...: (``run``) each output for every sample, stacked on a
  leading axis, raw (not dequantized).

Exit codes: 0 ok, 2 bad arguments, 3 numpy missing, 4 no TFLite runtime, 5 a
runtime is installed but does not import, 6 Python older than 3.9, 7 the
runtime rejected the model or failed to run it. Each error is one line on
stderr starting with ``edgeq-runner:``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time

PREFIX = "edgeq-runner:"
EXIT_USAGE = 2
EXIT_NO_NUMPY = 3
EXIT_NO_RUNTIME = 4
EXIT_BROKEN_RUNTIME = 5
EXIT_OLD_PYTHON = 6
EXIT_MODEL = 7
RUNTIMES = (
    ("ai_edge_litert.interpreter", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime"),
    ("tensorflow.lite.python.interpreter", "tensorflow"),
)


class RunnerError(Exception):
    """A failure with its exit code and a one-line message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = " ".join(message.split())


def load_numpy():
    """The numpy module, or RunnerError(EXIT_NO_NUMPY)."""
    try:
        import numpy
    except ImportError as exc:
        raise RunnerError(EXIT_NO_NUMPY, f"numpy is not installed ({exc}); pip install numpy") from None
    return numpy


def load_runtime(numpy_version: str) -> tuple[type, str, str]:
    """(Interpreter class, pip package, version) of the first TFLite runtime that imports."""
    broken: list[tuple[str, Exception]] = []
    for module_name, package in RUNTIMES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name + ".").startswith(exc.name + "."):
                continue  # not installed
            broken.append((package, exc))
        except Exception as exc:  # e.g. a wheel built for numpy 1 under numpy 2
            broken.append((package, exc))
        else:
            return module.Interpreter, package, _version(package, module_name)
    if not broken:
        raise RunnerError(EXIT_NO_RUNTIME, "no TFLite runtime; pip install ai-edge-litert (or tflite-runtime)")
    package, error = broken[0]
    fix = "pip install ai-edge-litert"
    if package == "tflite-runtime" and numpy_version.split(".")[0] not in ("0", "1"):
        fix = "tflite-runtime wheels need numpy 1: pip install ai-edge-litert, or pip install 'numpy<2'"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    raise RunnerError(
        EXIT_BROKEN_RUNTIME, f"{package} is installed but does not import ({type(error).__name__}: {first}); {fix}"
    )


def _version(package: str, module_name: str) -> str:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        top = sys.modules.get(module_name.split(".")[0])
        return str(getattr(top, "__version__", "unknown"))


def board_info() -> dict:
    """uname -m, the device-tree model (Raspberry Pi 5 Model B Rev 1.0, ...), kernel, Python and CPU count."""
    model = None
    for path in ("/proc/device-tree/model", "/sys/firmware/devicetree/base/model"):
        try:
            with open(path, "rb") as handle:
                model = handle.read().replace(b"\x00", b"").decode("utf-8", "replace").strip() or None
            break
        except OSError:
            continue
    return {
        "machine": platform.machine(),
        "model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }


def peak_rss_bytes() -> int:
    """VmHWM of this process from /proc/self/status, 0 where it is missing."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def make_interpreter(cls: type, model_path: str, threads: int):
    """An interpreter with tensors allocated, or RunnerError(EXIT_MODEL)."""
    try:
        interpreter = cls(model_path=model_path, num_threads=threads)
        interpreter.allocate_tensors()
    except Exception as exc:
        raise RunnerError(EXIT_MODEL, f"cannot load {model_path}: {exc}") from None
    return interpreter


def set_inputs(np, interpreter, arrays: list) -> None:
    """Give each input its array, cast to the input's dtype and reshaped to its shape."""
    details = interpreter.get_input_details()
    if len(arrays) != len(details):
        raise RunnerError(EXIT_MODEL, f"the model has {len(details)} inputs, got {len(arrays)} arrays")
    for detail, array in zip(details, arrays):
        interpreter.set_tensor(detail["index"], np.asarray(array, detail["dtype"]).reshape(detail["shape"]))


def time_invokes(np, interpreter, arrays: list, runs: int, warmup: int):
    """Milliseconds of ``runs`` invokes after ``warmup`` untimed ones."""
    set_inputs(np, interpreter, arrays)
    for _ in range(warmup):
        interpreter.invoke()
    ms = np.empty(runs, dtype=np.float64)
    for i in range(runs):
        start = time.perf_counter_ns()
        interpreter.invoke()
        ms[i] = (time.perf_counter_ns() - start) / 1e6
    return ms


def run_samples(np, interpreter, arrays: list) -> list:
    """Every sample (leading axis) through the model; one stacked raw array per output."""
    counts = {len(a) for a in arrays}
    if len(counts) > 1:
        raise RunnerError(EXIT_MODEL, f"the inputs hold different numbers of samples: {sorted(counts)}")
    count = counts.pop() if counts else 0
    outputs = interpreter.get_output_details()
    results: list = [[] for _ in outputs]
    for i in range(count):
        set_inputs(np, interpreter, [a[i : i + 1] for a in arrays])
        interpreter.invoke()
        for k, detail in enumerate(outputs):
            results[k].append(interpreter.get_tensor(detail["index"])[0].copy())
    return [
        np.stack(r) if r else np.empty((0, *detail["shape"][1:]), detail["dtype"])
        for r, detail in zip(results, outputs)
    ]


def read_inputs(np, folder: str, interpreter) -> list:
    """The arrays of FOLDER/in.npz, or one zero sample per input when there is no such file."""
    path = os.path.join(folder, "in.npz")
    if not os.path.exists(path):
        return [np.zeros(d["shape"], d["dtype"]) for d in interpreter.get_input_details()]
    with np.load(path, allow_pickle=False) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def execute(np, cls: type, args: argparse.Namespace, info: dict) -> None:
    """Do ``profile`` or ``run`` in ``args.folder`` and write out.npz there."""
    interpreter = make_interpreter(cls, os.path.join(args.folder, "model.tflite"), args.threads)
    arrays = read_inputs(np, args.folder, interpreter)
    outputs: list = []
    try:
        if args.mode == "profile":
            ms = time_invokes(np, interpreter, arrays, args.runs, args.warmup)
        else:
            ms, outputs = np.empty(0, dtype=np.float64), run_samples(np, interpreter, arrays)
    except RunnerError:
        raise
    except Exception as exc:
        raise RunnerError(EXIT_MODEL, f"invoking the model failed: {exc}") from None
    rss = peak_rss_bytes()
    named = {f"out_{k}": v for k, v in enumerate(outputs)}
    np.savez(os.path.join(args.folder, "out.npz"), ms=ms, rss=np.int64(rss), info=np.array(json.dumps(info)), **named)
    if args.mode == "profile":
        summary = {"runs": len(ms), "mean_ms": float(ms.mean()), "min_ms": float(ms.min()), "max_ms": float(ms.max())}
        print(json.dumps(dict(summary, peak_rss_bytes=rss, **info)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="runner.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("profile", "run", "info"))
    parser.add_argument("folder", nargs="?", default=".", help="folder with model.tflite and in.npz (default: .)")
    parser.add_argument("--runs", type=int, default=100, help="timed invokes (profile)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed invokes first (profile)")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (num_threads)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--runs and --threads must be >= 1 and --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, do the work, return the exit code (errors are one line on stderr)."""
    args = parse_args(argv)
    try:
        if sys.version_info < (3, 9):  # noqa: UP036 -- boards run their own, possibly older, Python
            raise RunnerError(EXIT_OLD_PYTHON, f"Python {platform.python_version()} is too old; the runner needs 3.9+")
        np = load_numpy()
        cls, package, version = load_runtime(np.__version__)
        info = dict(board_info(), numpy=np.__version__, runtime=package, runtime_version=version)
        info["threads"] = args.threads
        if args.mode == "info":
            print(json.dumps(info))
        else:
            execute(np, cls, args, info)
    except RunnerError as exc:
        sys.stderr.write(f"{PREFIX} {exc.message}\n")
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
