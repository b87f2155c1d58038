"""``edgeq farm`` and ``--farm`` on a real Ray cluster: a head and two agents on 127.0.0.1 with emulated boards.

One cluster serves the whole module (start-up is the slow part). The tests
that break the cluster (a worker killed mid-job, the head gone) come last.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES

pytest.importorskip("ray")
for tool in ("qemu-system-arm", "arm-none-eabi-gcc", "cc"):
    if shutil.which(tool) is None:
        pytest.skip(f"needs {tool}", allow_module_level=True)

MODEL = FIXTURES / "tflite" / "conv_int8.tflite"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    path = tmp_path_factory.mktemp("farm-in") / "in.npy"
    np.save(path, np.random.default_rng(7).integers(-128, 128, (3, 16, 16, 3), dtype=np.int8))
    return path


# ---- without a cluster: addresses, farm.yaml, finding boards, flashing the right probe


class _Port:
    def __init__(self, device, vid, pid, serial_number=None):
        self.device, self.vid, self.pid, self.serial_number = device, vid, pid, serial_number


def test_addresses_must_be_private_or_loopback():
    from edgeq.errors import UsageError
    from edgeq.farm.cluster import check_private, split_address

    assert split_address("10.0.0.5:6379") == ("10.0.0.5", 6379)
    for ip in ("127.0.0.1", "10.1.2.3", "192.168.1.9", "172.16.0.1", "fd00::1"):
        assert check_private("x", ip) == ip
    for bad in ("8.8.8.8", "0.0.0.0"):
        with pytest.raises(UsageError):
            check_private("x", bad)
    assert check_private("x", "8.8.8.8", allow_public=True) == "8.8.8.8"
    with pytest.raises(UsageError, match="HOST:PORT"):
        split_address("10.0.0.5")


def test_farm_yaml_is_checked_key_by_key():
    from edgeq.errors import UsageError
    from edgeq.farm.config import parse_config

    config = parse_config(
        {
            "serial": [{"board": "nucleo-l4r5zi", "serial_number": "066D"}],
            "ssh": [{"address": "pi@10.0.0.7", "board": "rpi5", "fingerprint": "SHA256:abc"}],
            "qemu": {"qemu-m4": 2},
            "host": {"host-c": 1},
        }
    )
    assert config.slots == {"qemu-m4": 2, "host-c": 1} and config.serial[0].serial_number == "066D"
    for bad, words in (
        ({"qemu": {"qemu-m9": 1}}, "unknown target"),
        ({"serial": [{"board": "nucleo-l4r5zi"}]}, "port or a serial_number"),
        ({"boards": 1}, "unknown key"),
        ({"host": {"host-c": -1}}, "whole number"),
    ):
        with pytest.raises(UsageError, match=words):
            parse_config(bad)


def test_serial_boards_by_usb_id_and_pins():
    from edgeq.farm.config import parse_config
    from edgeq.farm.discover import serial_devices

    ports = [
        _Port("/dev/ttyACM0", 0x2341, 0x805A, "N33"),  # only the Nano 33 BLE has this ID
        _Port("/dev/ttyACM1", 0x0483, 0x374E, "V3A"),  # STLINK-V3: two NUCLEO boards share it
        _Port("/dev/ttyACM2", 0x0483, 0x374E, "V3B"),
        _Port("/dev/ttyUSB0", 0x1234, 0x5678),  # unknown
    ]
    config = parse_config({"serial": [{"board": "nucleo-u575zi-q", "serial_number": "V3B"}]})
    warnings: list[str] = []
    found = {d.port: d for d in serial_devices(config, ports, warnings)}
    assert found["/dev/ttyACM0"].board == "nano33-ble-sense"
    assert found["/dev/ttyACM0"].resource == "edgeq_board_nano33_ble_sense"
    assert found["/dev/ttyACM2"].board == "nucleo-u575zi-q" and found["/dev/ttyACM2"].serial_number == "V3B"
    assert "/dev/ttyACM1" not in found and "/dev/ttyUSB0" not in found
    assert any("/dev/ttyACM1" in w and "pin" in w for w in warnings)


def test_flashers_are_aimed_at_the_board_probe():
    from edgeq.farm.devices import Device
    from edgeq.farm.flashing import flash_command

    device = Device("b@p", "r", "serial", "nucleo-l4r5zi", "/dev/ttyACM0", "066D")
    assert flash_command("st-flash", ["st-flash", "--reset", "write", "f.bin", "0x08000000"], device)[:3] == [
        "st-flash",
        "--serial",
        "066D",
    ]
    assert flash_command("pyocd", ["pyocd", "flash", "f.elf"], device) == ["pyocd", "flash", "f.elf", "--uid", "066D"]
    assert flash_command("esptool", ["esptool", "--port", "/dev/ttyACM0"], device) == [
        "esptool",
        "--port",
        "/dev/ttyACM0",
    ]


def test_jobs_name_their_resource():
    from edgeq.errors import UsageError
    from edgeq.farm.jobs import job_resource

    assert job_resource("qemu-m4") == "edgeq_target_qemu_m4"
    assert job_resource("nucleo-l4r5zi") == "edgeq_board_nucleo_l4r5zi"
    assert job_resource("ssh://pi@10.0.0.7") == "edgeq_target_ssh_pi_10_0_0_7"
    with pytest.raises(UsageError, match="unknown target or board"):
        job_resource("nucleo-zz")


def test_one_device_per_job_under_a_lock(tmp_path):
    from edgeq.errors import DeviceError
    from edgeq.farm.devices import Device, acquire, write_devices

    write_devices(tmp_path, [Device(f"qemu-m4#{n}", "edgeq_target_qemu_m4", "qemu-m4") for n in range(2)])
    kind = "edgeq_target_qemu_m4"
    with acquire(kind, set(), tmp_path) as first, acquire(kind, set(), tmp_path) as second:
        assert {first.key, second.key} == {"qemu-m4#0", "qemu-m4#1"}
        with pytest.raises(DeviceError, match="all busy"), acquire(kind, set(), tmp_path):
            pass
    with acquire("edgeq_target_qemu_m4", {"qemu-m4#0"}, tmp_path) as healthy:
        assert healthy.key == "qemu-m4#1"
    with acquire("edgeq_target_host_c", set(), tmp_path) as none:
        assert none is None


def test_a_board_job_flashes_the_board_it_holds_and_drives_it_over_its_port(tmp_path, monkeypatch):
    """No Ray: the agent's device file on this host, a NUCLEO pinned to a port; flashing is recorded, not run."""
    from edgeq.farm import jobs
    from edgeq.farm.devices import ENV_STATE, Device, write_devices

    board = Device(
        "nucleo-l4r5zi@/dev/ttyACM7", "edgeq_board_nucleo_l4r5zi", "serial", "nucleo-l4r5zi", "/dev/ttyACM7", "066D"
    )
    write_devices(tmp_path, [board])
    monkeypatch.setenv(ENV_STATE, str(tmp_path))
    flashed = []
    monkeypatch.setattr(jobs, "flash_model", lambda model, device: flashed.append(device.port))
    with jobs._on_device(b"model", "nucleo-l4r5zi", {"baud": 9600}, profiling=True) as (target, options):
        assert (target, options) == ("serial", {"baud": 9600, "port": "/dev/ttyACM7", "board": "nucleo-l4r5zi"})
    assert flashed == ["/dev/ttyACM7"]


# ---- a real cluster


def _status(cli, address):
    done = cli("farm", "status", "--address", address, "--json")
    assert done.exit_code == 0, done.stderr
    return done.json()


def _boards(status, kind):
    """{node_id: boards entry} of every host offering ``kind`` (e.g. target:qemu_m4)."""
    return {h["node_id"]: h["boards"][kind] for h in status["hosts"] if kind in h["boards"]}


def test_sockets_stay_on_loopback(farm_cluster):
    sockets = farm_cluster.sockets()
    assert len([s for s in sockets if s[0] == "LISTEN"]) >= 8, sockets  # GCS, raylets, agents, ...
    assert not farm_cluster.beyond_loopback()


def test_status_lists_hosts_boards_and_abilities(cli, farm_cluster):
    status = _status(cli, farm_cluster.address)
    hosts = status["hosts"]
    assert len(hosts) == 3 and sum(h["head"] for h in hosts) == 1
    workers = [h for h in hosts if not h["head"]]
    for host in workers:
        assert host["boards"]["target:qemu_m4"] == {"total": 1, "free": 1, "busy": 0, "unhealthy": 0}
        assert host["boards"]["target:host_c"]["total"] == 2
        assert {"qemu", "cc", "arm-gcc"} <= set(host["abilities"])
    text = cli("farm", "status", "--address", farm_cluster.address).stdout
    assert "target:qemu_m4" in text and "(head)" in text


@pytest.mark.parametrize("target", ["host-c", "qemu-m4"])
def test_run_on_the_farm_gives_the_local_bytes(cli, farm_cluster, inputs, tmp_path, target):
    local, remote = tmp_path / "local.npy", tmp_path / "farm.npy"
    done = cli("run", str(MODEL), "--target", target, "--input", str(inputs), "-o", str(local))
    assert done.exit_code == 0, done.stderr
    done = cli(
        "run", str(MODEL), "--target", target, "--input", str(inputs), "-o", str(remote), "--farm", farm_cluster.address
    )
    assert done.exit_code == 0, done.stderr
    assert remote.read_bytes() == local.read_bytes()


@pytest.mark.parametrize("target", ["host-c", "qemu-m4"])
def test_profile_on_the_farm_matches_local(cli, farm_cluster, target):
    args = ("profile", str(MODEL), "--target", target, "--runs", "3", "--warmup", "1", "--json")
    local = cli(*args)
    remote = cli(*args, "--farm", farm_cluster.address)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    a, b = local.json(), remote.json()
    assert a.keys() == b.keys()
    assert (a["model"], a["target"], a["runs"]) == (b["model"], b["target"], b["runs"])
    if target == "qemu-m4":
        assert a["instructions"] == b["instructions"] and a["instructions"] > 0


def test_a_target_no_host_offers_fails_before_running(cli, farm_cluster, inputs, tmp_path):
    start = time.monotonic()
    done = cli("run", str(MODEL), "--target", "qemu-m55", "--input", str(inputs), "-o", str(tmp_path / "o.npy"),
               "--farm", farm_cluster.address)  # fmt: skip
    assert done.exit_code == 1
    assert "no host of the farm offers qemu-m55" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert time.monotonic() - start < 30
    assert not (tmp_path / "o.npy").exists()


def test_agent_refuses_public_addresses(cli, farm_cluster):
    done = cli("farm", "agent", "--address", "8.8.8.8:6379", "--dry-run")
    assert done.exit_code == 2 and "not a private or loopback address" in done.stderr
    done = cli("farm", "agent", "--address", farm_cluster.address, "--node-ip", "1.1.1.1", "--dry-run")
    assert done.exit_code == 2 and "node address" in done.stderr


def test_agent_dry_run_lists_what_it_offers(cli, farm_cluster, tmp_path):
    config = tmp_path / "farm.yaml"
    config.write_text("qemu: {qemu-m4: 2}\nhost: {host-c: 1}\n")
    done = cli("farm", "agent", "--address", farm_cluster.address, "--config", str(config), "--node-ip",
               "127.0.0.1", "--dry-run", "--json")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    plan = done.json()
    assert plan["resources"]["edgeq_target_qemu_m4"] == 2 and plan["resources"]["edgeq_target_host_c"] == 1
    assert "--node-ip-address=127.0.0.1" in plan["command"]


def test_a_failing_board_is_marked_unhealthy_and_the_job_moves(cli, farm_cluster):
    """Two qemu-m4 jobs at once (one per host); w1's board fails, its job finishes on w2's board."""
    from edgeq.farm.cluster import connect, remote_call, result
    from edgeq.farm.jobs import run_job
    from edgeq.farm.resources import target_resource

    data = MODEL.read_bytes()
    sample = [np.zeros((1, 16, 16, 3), np.int8)]
    farm_cluster.break_board("w1")
    with connect(farm_cluster.address):
        refs = [
            remote_call(run_job, data, "qemu-m4", sample, {}, resources={target_resource("qemu-m4"): 1}) for _ in "ab"
        ]
        outputs = [result(r, timeout=120) for r in refs]
    assert np.array_equal(outputs[0][0], outputs[1][0])
    assert not farm_cluster.fault_files["w1"].exists()  # the fault fired
    boards = _boards(_status(cli, farm_cluster.address), "target:qemu_m4")
    assert sorted(b["unhealthy"] for b in boards.values()) == [0, 1]
    bad = next(b for b in boards.values() if b["unhealthy"])
    assert bad["free"] == 0
    cleared = cli("farm", "status", "--address", farm_cluster.address, "--clear", "--json").json()
    assert cleared["cleared"] == 1
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        boards = _boards(_status(cli, farm_cluster.address), "target:qemu_m4")
        if all(b == {"total": 1, "free": 1, "busy": 0, "unhealthy": 0} for b in boards.values()):
            break
        time.sleep(0.5)
    assert all(b["free"] == 1 and b["unhealthy"] == 0 for b in boards.values())


def test_sigterm_stops_an_agent_and_everything_it_started(farm_cluster):
    import signal

    from tests.farm.conftest import descendants, start_agent

    agent, _ = start_agent(farm_cluster.root, farm_cluster.address, "w3", {"host": {"host-c": 1}})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(b"raylet" in _cmdline(p) for p in descendants(agent.pid)):
            assert agent.poll() is None, (farm_cluster.root / "w3.log").read_text()
            time.sleep(0.3)
        family = descendants(agent.pid)
        assert len(family) > 3
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)  # ray start gets 15 s to stop the node, then its process group is killed
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in family):
            time.sleep(0.2)
        assert not [p for p in family if Path(f"/proc/{p}").exists()]
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_worker_killed_mid_job_reruns_elsewhere(cli, farm_cluster):
    """A long qemu-m4 profile; the host running it is killed; Ray reruns the job on the other host."""
    import json
    import subprocess
    import sys

    edgeq = str(Path(sys.executable).parent / "edgeq")
    args = [edgeq, "profile", str(MODEL), "--target", "qemu-m4", "--runs", "300", "--warmup", "0", "--json"]
    job = subprocess.Popen([*args, "--farm", farm_cluster.address], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        busy = _wait_busy(cli, farm_cluster, "target:qemu_m4")
        victim = next(name for name, proc in farm_cluster.workers.items() if _node_of(proc.pid) == busy)
        farm_cluster.kill_worker(victim)
        out, err = job.communicate(timeout=150)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == 0, err.decode()
    assert out.lstrip().startswith(b"{"), out[:2000]
    assert json.loads(out)["instructions"] > 0
    deadline = time.monotonic() + 60  # Ray's health checks take a while to call a killed node dead
    while len(hosts := _status(cli, farm_cluster.address)["hosts"]) > 2 and time.monotonic() < deadline:
        time.sleep(2)
    assert len(hosts) == 2


def test_head_gone_is_one_line(cli, farm_cluster, inputs, tmp_path):
    from tests.farm.conftest import _stop, free_port

    done = cli("farm", "status", "--address", f"127.0.0.1:{free_port()}")
    assert done.exit_code == 1 and done.stderr.startswith("error: no Ray head answers at")
    _stop(farm_cluster.head)
    done = cli("run", str(MODEL), "--target", "host-c", "--input", str(inputs), "-o", str(tmp_path / "o.npy"),
               "--farm", farm_cluster.address)  # fmt: skip
    assert done.exit_code == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def _wait_busy(cli, farm_cluster, kind: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = [n for n, b in _boards(_status(cli, farm_cluster.address), kind).items() if b["busy"]]
        if busy:
            return busy[0]
        time.sleep(0.3)
    raise AssertionError(f"no {kind} became busy")


def _node_of(agent_pid: int) -> str | None:
    """The Ray node id of the agent ``agent_pid`` (from its raylet's command line)."""
    from tests.farm.conftest import descendants

    for pid in descendants(agent_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in cmd:
            if arg.startswith(b"--node_id="):
                return arg.split(b"=", 1)[1].decode()
    return None
