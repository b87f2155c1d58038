"""The SSH target's parts without a server: URL parsing, ssh options, error transcripts, the board runner."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeq.errors import DependencyError, DeviceError, UsageError
from edgeq.remote import runner
from edgeq.remote.diagnose import runner_failure, ssh_failure
from edgeq.remote.endpoint import Endpoint, SshOptions
from edgeq.remote.job import RUNNER, Job, read_result
from edgeq.remote.session import SshSession
from edgeq.targets import get_target
from edgeq.targets.ssh import SshTarget, make_target

CONV = Path(__file__).resolve().parent.parent / "fixtures" / "tflite" / "conv_int8.tflite"
PI = Endpoint("raspberrypi.local", "pi", 2222)

# stderr of OpenSSH 9.2 (Debian 12) for each failure, as captured.
TRANSCRIPTS = {
    "unknown": "No ED25519 host key is known for [raspberrypi.local]:2222 and you have requested strict checking.\n"
    "Host key verification failed.\n",
    "changed": "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
    "Host key for [raspberrypi.local]:2222 has changed and you have requested strict checking.\n"
    "Host key verification failed.\n",
    "auth": "pi@raspberrypi.local: Permission denied (publickey).\n",
    "refused": "ssh: connect to host raspberrypi.local port 2222: Connection refused\n",
    "timeout": "ssh: connect to host 192.168.1.50 port 2222: Connection timed out\n",
    "banner": "Connection timed out during banner exchange\n",
    "resolve": "ssh: Could not resolve hostname raspberrypi.local: Name or service not known\n",
    "route": "ssh: connect to host 192.168.1.50 port 2222: No route to host\n",
    "closed": "kex_exchange_identification: Connection closed by remote host\n",
}
EXPECTED = {
    "unknown": "is not in ~/.ssh/known_hosts and edgeq never accepts unknown keys",
    "changed": "has CHANGED since",
    "auth": "ssh-copy-id -p 2222 pi@raspberrypi.local",
    "refused": "port 2222 refused",
    "timeout": "no answer from raspberrypi.local port 2222 within 10 s",
    "banner": "no answer from",
    "resolve": "cannot resolve the host name 'raspberrypi.local'",
    "route": "is unreachable",
    "closed": "closed the connection before login",
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ssh://pi@raspberrypi.local", Endpoint("raspberrypi.local", "pi")),
        ("ssh://pi@10.0.0.5:2222", Endpoint("10.0.0.5", "pi", 2222)),
        ("ssh://pi@[fe80::1%eth0]:22/", Endpoint("fe80::1%eth0", "pi", 22)),
        ("ssh://board", Endpoint("board")),
    ],
)
def test_parse_accepts_ssh_urls(url, expected):
    assert Endpoint.parse(url) == expected
    assert Endpoint.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "url",
    [
        "pi@host",
        "http://pi@host",
        "ssh://pi@",
        "ssh://pi@host:65536",
        "ssh://pi@host:22x",
        "ssh://pi:secret@host",
        "ssh://-oProxyCommand=touch%20x",
        "ssh://pi@-oProxyCommand=x",
        "ssh://-l@host",
        "ssh://pi@host/home/pi",
        "ssh://pi@ho st",
    ],
)
def test_parse_rejects_anything_else(url):
    with pytest.raises(UsageError):
        Endpoint.parse(url)


def test_known_hosts_name_and_destination():
    assert PI.known_hosts_name == "[raspberrypi.local]:2222" and PI.destination == "pi@raspberrypi.local"
    assert Endpoint("pi.local", None, 22).known_hosts_name == "pi.local"


def test_every_call_is_batch_mode_with_strict_host_keys(tmp_path):
    key = tmp_path / "my key%1"
    key.write_text("")
    options = SshOptions(known_hosts=key, identity=key)
    with SshSession(PI, options) as session:
        args = session.client_args()
        control = Path(next(a for a in args if a.startswith("ControlPath=")).removeprefix("ControlPath="))
        assert control.parent.is_dir()
    assert "BatchMode=yes" in args and "StrictHostKeyChecking=yes" in args
    assert not any(a.startswith(("StrictHostKeyChecking=no", "StrictHostKeyChecking=accept")) for a in args)
    assert f'UserKnownHostsFile="{tmp_path}/my key%%1"' in args and "IdentitiesOnly=yes" in args
    assert args[args.index("-i") + 1] == f"{tmp_path}/my key%%1"
    assert "Port=2222" in args and "User=pi" in args
    assert not control.parent.exists()


@pytest.mark.parametrize("case", sorted(TRANSCRIPTS))
def test_ssh_failures_name_the_cause_and_fix(case):
    error = ssh_failure(PI, SshOptions(), TRANSCRIPTS[case])
    assert isinstance(error, DeviceError) and EXPECTED[case] in str(error)
    assert "\n" not in str(error)


def test_host_key_messages_never_suggest_accepting_blindly():
    for case in ("unknown", "changed"):
        text = str(ssh_failure(PI, SshOptions(), TRANSCRIPTS[case]))
        assert "ssh-keyscan -p 2222 raspberrypi.local" in text and "ssh-keygen -lf" in text
        assert "StrictHostKeyChecking" not in text


def test_unknown_ssh_failure_keeps_ssh_message():
    error = ssh_failure(PI, SshOptions(), "command-line line 0: Bad configuration option: foo\n")
    assert str(error) == "ssh to pi@raspberrypi.local failed: command-line line 0: Bad configuration option: foo"


@pytest.mark.parametrize(
    ("code", "stderr", "kind", "text"),
    [
        (127, "sh: 1: python3: not found\n", DependencyError, "python3 was not found on pi.local"),
        (3, "edgeq-runner: numpy is not installed\n", DependencyError, "pip install numpy"),
        (4, "edgeq-runner: no TFLite runtime\n", DependencyError, "pip install ai-edge-litert (or pip install tflite"),
        (5, "A module compiled with NumPy 1.x\nedgeq-runner: tflite-runtime is installed but does not import (x)\n",
         DependencyError, "tflite-runtime is installed but does not import (x) on pi.local"),
        (7, "edgeq-runner: cannot load m: bad op\n", DeviceError, "could not run the model: cannot load m: bad op"),
        (137, "", DeviceError, "killed by SIGKILL on pi.local (python3); the board probably ran out of memory"),
        (1, "Traceback\nValueError: boom\n", DeviceError, "failed on pi.local (python3) (exit 1): Traceback; ValueError"),
    ],
)  # fmt: skip
def test_runner_failures(code, stderr, kind, text):
    error = runner_failure("pi.local", "python3", code, stderr)
    assert type(error) is kind and text in str(error)


def test_make_target_rejects_unknown_options_and_missing_files(tmp_path):
    with pytest.raises(UsageError, match="takes no --baud/--port option; it takes: --python, "):
        get_target("ssh://pi@pi.local", port="/dev/ttyACM0", baud=9600)
    with pytest.raises(UsageError, match="identity file .* does not exist"):
        make_target("ssh://pi@pi.local", identity=tmp_path / "missing")
    with pytest.raises(UsageError, match="threads"):
        make_target("ssh://pi@pi.local", threads=0)


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    key = tmp_path / "id_ed25519"
    key.write_text("")
    monkeypatch.setenv("EDGEQ_SSH_PYTHON", "/home/pi/venv/bin/python -u")
    monkeypatch.setenv("EDGEQ_SSH_IDENTITY", str(key))
    target = SshTarget("ssh://pi@pi.local")
    assert target.python == ("/home/pi/venv/bin/python", "-u") and target.options.identity == key
    assert SshTarget("ssh://pi@pi.local", python="python3").python == ("python3",)


def test_job_command_line():
    job = Job("profile", ("python3",), runs=5, warmup=1, threads=4)
    expected = ["python3", "/tmp/e.1/runner.py", "profile", "/tmp/e.1", "--runs", "5", "--warmup", "1"]
    assert job.argv("/tmp/e.1") == [*expected, "--threads", "4"]


def test_read_result_never_unpickles(tmp_path):
    np.savez(tmp_path / "out.npz", ms=np.ones(2), rss=np.int64(5), info=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DeviceError, match="unreadable out.npz"):
        read_result(tmp_path / "out.npz", "pi.local")


def test_runner_is_self_contained_python_39():
    tree = ast.parse(RUNNER.read_text(), feature_version=(3, 9))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "argparse", "importlib", "json", "os", "platform", "sys", "time", "numpy"}


def test_runner_help_needs_no_numpy():
    done = subprocess.run([sys.executable, "-I", "-S", str(RUNNER), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "Exit codes" in done.stdout


def test_runner_on_its_own_profiles_and_runs(tmp_path):
    (tmp_path / "model.tflite").write_bytes(CONV.read_bytes())
    done = subprocess.run([sys.executable, str(RUNNER), "profile", str(tmp_path), "--runs", "3"], capture_output=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert summary["runs"] == 3 and summary["runtime"] == "ai-edge-litert" and summary["peak_rss_bytes"] > 0
    np.savez(tmp_path / "in.npz", np.zeros((2, 16, 16, 3), np.int8))
    assert runner.main(["run", str(tmp_path)]) == 0
    result = read_result(tmp_path / "out.npz", "here")
    assert result.ms == () and result.outputs[0].shape == (2, 10) and result.outputs[0].dtype == np.int8


def test_runner_reports_a_bad_model(tmp_path, capsys):
    (tmp_path / "model.tflite").write_bytes(b"not a model")
    assert runner.main(["profile", str(tmp_path), "--runs", "1"]) == runner.EXIT_MODEL
    assert capsys.readouterr().err.startswith("edgeq-runner: cannot load")
