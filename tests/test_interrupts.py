"""Whatever ends edgeq (Ctrl-C, SIGTERM, SIGHUP, SIGKILL, `timeout`), nothing it started keeps running and no
temporary files stay behind; the build cache holds up when several edgeq processes fill it at once.

Each test starts the real ``edgeq`` command line as a process, waits until its child (QEMU, the tflite-micro
timing worker, the compiled engine) is running, sends a real signal, and then looks for that child's pid and for
files left under the process's ``TMPDIR``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgeq.tempdirs import process_start_time, sweep_stale

FIXTURES = Path(__file__).parent / "fixtures"
CONV = FIXTURES / "tflite" / "conv_int8.tflite"
KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
EDGEQ = [sys.executable, "-m", "edgeq"]


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (by the parent links in /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_child(proc: subprocess.Popen, marker: str, timeout: float = 120.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in _children(proc.pid) if marker in _cmdline(p)]
        if pids:
            return pids
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"edgeq ended (rc {proc.returncode}) before starting {marker}: {err[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"edgeq did not start {marker} within {timeout:g} s")


def _gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def env(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return dict(os.environ, TMPDIR=str(tmp))


def _start(args: list[str], env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*EDGEQ, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


QEMU_PROFILE = ["profile", str(CONV), "--target", "qemu-m4", "--runs", "200000", "--warmup", "0"]
TFLM_PROFILE = ["profile", str(KWS), "--target", "host-tflm", "--runs", "1000000", "--warmup", "0"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_emulator_and_removes_temporary_files(sig, env, tmp_path):
    _need("qemu-system-arm")
    _need("arm-none-eabi-gcc")
    proc = _start(QEMU_PROFILE, env, tmp_path)
    qemu = _wait_for_child(proc, "qemu-system-arm")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig if sig != signal.SIGINT else proc.returncode == 130, err
    assert "Traceback" not in err
    assert _gone(qemu) == []
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_sigkill_takes_the_emulator_along_and_the_next_run_sweeps_its_files(env, tmp_path):
    _need("qemu-system-arm")
    _need("arm-none-eabi-gcc")
    proc = _start(QEMU_PROFILE, env, tmp_path)
    qemu = _wait_for_child(proc, "qemu-system-arm")
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone(qemu) == []  # the parent-death signal, with nobody to clean up
    left = list(Path(env["TMPDIR"]).iterdir())
    assert [p.name.split("-")[1] for p in left] == [str(proc.pid)]
    done = subprocess.run([*EDGEQ, "boards"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_timeout_stops_the_tflm_worker(env, tmp_path):
    _need("timeout")
    pytest.importorskip("tflite_micro")
    proc = subprocess.Popen(
        ["timeout", "-s", "TERM", "60", *EDGEQ, *TFLM_PROFILE],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = _wait_for_child(proc, "edgeq.worker")
    edgeq = [p for p in _children(proc.pid) if "-m edgeq profile" in _cmdline(p)]
    os.kill(edgeq[0], signal.SIGTERM)  # what `timeout` sends when its time is up
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert _gone(worker) == []
    assert list(Path(env["TMPDIR"]).iterdir()) == []


def test_sigkill_takes_the_tflm_worker_along(env, tmp_path):
    pytest.importorskip("tflite_micro")
    proc = _start(TFLM_PROFILE, env, tmp_path)
    worker = _wait_for_child(proc, "edgeq.worker")
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone(worker) == []


def test_parallel_runs_on_a_cold_cache_build_once_and_agree(tmp_path):
    """Three `edgeq run --target host-c` at once on an empty cache: all succeed with the same bytes."""
    import numpy as np

    _need("gcc")
    from edgeq.model import read_model

    spec = read_model(KWS.read_bytes()).input_tensors[0]
    x = np.random.default_rng(0).integers(-128, 128, (3, *spec.shape[1:]), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, EDGEQ_CACHE=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen(
            [*EDGEQ, "run", str(KWS), "--target", "host-c", "--input", "x.npy", "-o", f"y{i}.npy"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    outs = [np.load(tmp_path / f"y{i}.npy") for i in range(3)]
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
    entries = list((tmp_path / "cache" / "host-c").iterdir())
    assert len([e for e in entries if e.is_dir()]) == 1  # one entry, no staging folders left
    assert not [e for e in entries if e.name.startswith(".") and e.is_dir()]


def test_cached_folder_is_built_once_and_a_failed_build_leaves_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from edgeq.cache import cached_folder

    calls = []

    def make(stage: Path) -> None:
        calls.append(stage)
        time.sleep(0.2)
        (stage / "out").write_text("x")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: cached_folder(tmp_path / "entry", make), range(4)))
    assert len(calls) == 1 and all(r == tmp_path / "entry" for r in results)
    assert (tmp_path / "entry" / "out").read_text() == "x"

    def broken(stage: Path) -> None:
        (stage / "half").write_text("x")
        raise RuntimeError("compiler died")

    with pytest.raises(RuntimeError):
        cached_folder(tmp_path / "other", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".entry.lock", ".other.lock", "entry"]


def test_sweep_removes_only_folders_of_dead_processes(tmp_path):
    mine = tmp_path / f"edgeq-{os.getpid()}-{process_start_time(os.getpid())}"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"edgeq-{dead.pid}-1"
    reused = tmp_path / f"edgeq-{os.getpid()}-1"  # our pid, another start time: a reused pid
    other = tmp_path / "edgeq-not-ours"
    for folder in (mine, stale, reused, other):
        folder.mkdir()
    assert sorted(sweep_stale(tmp_path)) == sorted([stale, reused])
    assert mine.exists() and other.exists()


KERAS = FIXTURES / "models" / "tiny_cnn.keras"


def _wait_for_temporary_files(proc: subprocess.Popen, tmp: Path, timeout: float = 120.0) -> None:
    """Until the process's temporary folder holds something (TensorFlow's SavedModel, a probe's model)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.is_file() for p in tmp.rglob("*")):
            return
        if proc.poll() is not None:
            pytest.fail(f"edgeq ended (rc {proc.returncode}) before writing temporary files: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("edgeq wrote no temporary files")


@pytest.fixture
def calibration(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((40, 12, 12, 3), dtype=np.float32))
    return "x.npy"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_convert_interrupted_leaves_no_output_and_no_temporary_files(sig, env, tmp_path, calibration):
    tmp = Path(env["TMPDIR"])
    proc = _start(["convert", str(KERAS), "-d", calibration, "-o", "out/m.tflite"], env, tmp_path)
    _wait_for_temporary_files(proc, tmp)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (128 + sig, -sig), err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    if sig == signal.SIGKILL:  # nothing could clean up: the next command does
        assert list(tmp.iterdir())
        done = subprocess.run([*EDGEQ, "boards"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert list(tmp.iterdir()) == []


def test_generate_tflm_interrupted_stops_its_probe_and_leaves_no_temporary_files(env, tmp_path):
    pytest.importorskip("tflite_micro")
    tmp = Path(env["TMPDIR"])
    proc = _start(["generate", str(KWS), "--format", "tflm", "-o", "out"], env, tmp_path)
    probes = _wait_for_child(proc, "edgeq.worker")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _gone(probes) == []
    assert list(tmp.iterdir()) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_flash_on_an_emulated_board_ends_with_edgeq(sig, env, tmp_path):
    _need("qemu-system-arm")
    _need("arm-none-eabi-gcc")
    done = subprocess.run(
        [*EDGEQ, "generate", str(CONV), "--format", "engine", "-o", "eng"], env=env, cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    proc = _start(["flash", "eng", "--board", "qemu-mps2-an386", "--port", "tty"], env, tmp_path)
    qemu = _wait_for_child(proc, "qemu-system-arm")
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert _gone(qemu) == []
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + sig
        assert not (tmp_path / "tty").is_symlink()  # the pty link goes with it
