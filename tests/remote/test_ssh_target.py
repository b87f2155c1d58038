"""The ``ssh://`` target against a real OpenSSH server started on 127.0.0.1 for these tests.

The "board" is this machine: sshd runs as root with a throw-away host key and
user key, and the runner uses this venv's Python (numpy + ai_edge_litert).
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edgeq.errors import DependencyError, DeviceError, UsageError
from edgeq.model import read_model
from edgeq.model.graph import NUMPY_DTYPES
from edgeq.targets.host import HostTarget
from edgeq.targets.ssh import SshTarget, make_target

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CONV = FIXTURES / "tflite" / "conv_int8.tflite"
SSHD = "/usr/sbin/sshd"
SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {tmp}/host_key
AuthorizedKeysFile {tmp}/authorized_keys
PidFile {tmp}/sshd.pid
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
"""


@dataclass
class Board:
    """A running test sshd and the files a client needs to reach it."""

    port: int
    tmp: Path

    @property
    def url(self) -> str:
        return f"ssh://{getpass.getuser()}@127.0.0.1:{self.port}"

    def target(self, url: str | None = None, **options: object) -> SshTarget:
        settings = {
            "known_hosts": self.tmp / "known_hosts",
            "identity": self.tmp / "user_key",
            "ssh_config": self.tmp / "ssh_config",
            "python": sys.executable,
            "connect_timeout": 5,
        }
        settings.update(options)
        return make_target(url or self.url, **settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgeq-test", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def _wait_for_banner(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sshd did not answer on port {port}: {log.read_text()}")


def _write_server_files(tmp: Path) -> tuple[int, str]:
    """Host key, user keys, authorized_keys, sshd_config and an empty ssh_config; returns (port, host key)."""
    host_key = _keygen(tmp / "host_key")
    (tmp / "authorized_keys").write_text(_keygen(tmp / "user_key") + "\n")
    _keygen(tmp / "other_key")
    (tmp / "ssh_config").write_text("")  # keeps ~/.ssh/config and /etc/ssh/ssh_config out of the tests
    port = _free_port()
    (tmp / "sshd_config").write_text(SSHD_CONFIG.format(port=port, tmp=tmp))
    return port, host_key


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """sshd on a free port of 127.0.0.1 with throw-away keys; stopped at teardown."""
    if not os.path.exists(SSHD):
        pytest.skip("openssh-server is not installed (apt-get install openssh-server)")
    if not all(shutil.which(tool) for tool in ("ssh", "scp", "ssh-keygen")):
        pytest.skip("the OpenSSH client is not installed (apt-get install openssh-client)")
    if os.geteuid() != 0:
        pytest.skip("the test sshd must run as root")
    tmp = tmp_path_factory.mktemp("sshd")
    port, host_key = _write_server_files(tmp)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = tmp / "sshd.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")], stdout=sink, stderr=sink)
    try:
        _wait_for_banner(port, proc, log)
        (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
        yield Board(port, tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def remote_log(caplog):
    """caplog fed straight from the edgeq.remote logger (the CLI's setup_logging stops propagation)."""
    logger = logging.getLogger("edgeq.remote")
    level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.setLevel(level)


def _samples(model: bytes, count: int, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in read_model(model).input_tensors:
        dtype = np.dtype(NUMPY_DTYPES[tensor.dtype])
        shape = (count, *tensor.shape[1:])
        if dtype.kind in "iu":
            arrays.append(rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def _remote_folders(caplog) -> set[str]:
    return set(re.findall(r"temp folder on 127\.0\.0\.1: (\S+)", caplog.text))


def test_profile_returns_every_run_and_peak_rss(board, remote_log):
    model = CONV.read_bytes()
    target = board.target()
    timing = target.profile(model, _samples(model, 1), runs=7, warmup=2, threads=2)
    assert len(timing.ms) == 7 and all(ms > 0 for ms in timing.ms)
    assert timing.memory.peak_rss_bytes is not None and timing.memory.peak_rss_bytes > 10_000_000
    assert "ai-edge-litert" in timing.latency_source and "2 thread(s)" in timing.latency_source
    assert target.board is not None and target.board["machine"] == platform.machine()
    assert any("numpy" in note for note in timing.notes)
    folders = _remote_folders(remote_log)
    assert len(folders) == 1 and not Path(folders.pop()).exists()


@pytest.mark.parametrize(
    "path",
    [CONV, FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite", FIXTURES / "tflite" / "two_input_int8.tflite"],
    ids=["conv_int8", "kws_dscnn", "two_input"],
)
def test_run_outputs_equal_the_host_target_byte_for_byte(board, path):
    model = path.read_bytes()
    inputs = _samples(model, 5)
    remote = board.target().run(model, inputs)
    local = HostTarget().run(model, inputs)
    assert len(remote) == len(local)
    for got, want in zip(remote, local):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()


def test_unknown_host_key_is_refused_not_accepted(board, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(DeviceError, match=r"host key of \[127\.0\.0\.1\]:\d+ is not in .*ssh-keyscan -p \d+ 127"):
        board.target(known_hosts=empty).profile(CONV.read_bytes(), _samples(CONV.read_bytes(), 1), 1, 0)
    assert empty.read_text() == ""


def test_changed_host_key_is_refused(board, tmp_path):
    other = _keygen(tmp_path / "impostor")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{board.port} {other}\n")
    with pytest.raises(DeviceError, match="has CHANGED.*ssh-keygen -f .* -R"):
        board.target(known_hosts=known).run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))


def test_wrong_key_is_an_authentication_error(board):
    with pytest.raises(DeviceError, match=r"refused key authentication.*ssh-copy-id -p \d+ -i .*other_key"):
        board.target(identity=board.tmp / "other_key").run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))


def test_closed_port_is_a_connection_error(board):
    url = f"ssh://{getpass.getuser()}@127.0.0.1:{_free_port()}"
    with pytest.raises(DeviceError, match=r"port \d+ refused: no SSH server"):
        board.target(url=url).run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))


def test_python_without_a_tflite_runtime_names_the_pip_package(board, tmp_path, remote_log):
    site = tmp_path / "site"  # numpy only: -S keeps the venv's site-packages (and ai_edge_litert) away
    site.mkdir()
    numpy_dir = Path(np.__file__).parent
    for name in ("numpy", "numpy.libs"):
        if (numpy_dir.parent / name).exists():
            (site / name).symlink_to(numpy_dir.parent / name)
    python = f"env PYTHONPATH={site} {sys.executable} -S"
    with pytest.raises(DependencyError, match=r"no TFLite runtime .*pip install ai-edge-litert .*tflite-runtime"):
        board.target(python=python).run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))
    folders = _remote_folders(remote_log)
    assert len(folders) == 1 and not Path(folders.pop()).exists()


def test_python_without_numpy_says_so(board):
    with pytest.raises(DependencyError, match="numpy is missing on 127.0.0.1 .*pip install numpy"):
        board.target(python=f"{sys.executable} -I -S").run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))


def test_missing_python_says_so(board):
    with pytest.raises(DependencyError, match="/nonexistent/python3 was not found on 127.0.0.1"):
        board.target(python="/nonexistent/python3").run(CONV.read_bytes(), _samples(CONV.read_bytes(), 1))


@pytest.mark.parametrize(
    "url",
    ["pi@raspberrypi.local", "ssh://", "ssh://pi@", "ssh://pi@host:0", "ssh://pi@host:x", "ssh://pi:secret@host"],
)
def test_malformed_url_is_a_usage_error(url):
    with pytest.raises(UsageError, match="SSH target|ssh://"):
        make_target(url)
