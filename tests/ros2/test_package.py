"""edgeq ros2 package: the package builds with colcon, and its node, without edgeq, gives LiteRT's outputs over real DDS.

The node runs as the robot would run it: the console script colcon installed,
with the install space on PYTHONPATH and ``import edgeq`` made to fail. DDS
stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, the loopback
Fast DDS profile) in a domain of its own per test, on topics named after the
test process.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgeq.model import read_model
from edgeq.model.io import model_inputs, model_outputs
from edgeq.resources import package_dir
from edgeq.targets import get_target
from tests.conftest import FIXTURES
from tests.ros2.conftest import Peer

pytest.importorskip("rclpy", reason="ROS 2 is the ros2 extra")
pytest.importorskip("colcon_ros", reason="colcon is the ros2 extra")
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64MultiArray, Int32  # noqa: E402

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
PROFILE = str(package_dir("edgeq", "ros2") / "fastdds_loopback.xml")
_domains = itertools.count(os.getpid() % 100 + 100)  # 100..~230, one per test; away from the default domain 0
# What the generated node may import: the standard library, numpy, ROS 2 and a TFLite runtime (Pillow optional).
NODE_IMPORTS = {"collections", "ctypes", "importlib", "math", "os", "threading", "time", "typing", "numpy", "PIL"}
NODE_IMPORTS |= {
    "rclpy",
    "rcl_interfaces",
    "std_msgs",
    "sensor_msgs",
    "diagnostic_msgs",
    "ai_edge_litert",
    "tflite_runtime",
}
BUILD_S, START_S = 300.0, 60.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A colcon workspace with the KWS model as two packages, one per runtime, built once; its install space."""
    from edgeq.ros2.package import write_package

    ws = tmp_path_factory.mktemp("ros2_ws")
    write_package(KWS, ws / "src" / "kws_litert", "kws_litert", "litert")
    write_package(KWS, ws / "src" / "kws_engine", "kws_engine", "engine")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "colcon", "--log-base", str(ws / "log"), "build", "--base-paths", str(ws / "src")]
        + [
            "--build-base",
            str(ws / "build"),
            "--install-base",
            str(ws / "install"),
            "--event-handlers",
            "console_direct-",
        ],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=BUILD_S,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(f"colcon build of both packages: {time.monotonic() - started:.1f} s")
    return ws / "install"


@pytest.fixture
def ros_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's DDS settings, for the test process (set before rclpy.init) and the node alike."""
    settings = {
        "ROS_DOMAIN_ID": str(next(_domains) % 233),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "FASTRTPS_DEFAULT_PROFILES_FILE": PROFILE,
        "ROS_LOG_DIR": str(tmp_path / "ros-log"),
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ, PYTHONUNBUFFERED="1")


def start_node(install: Path, package: str, env: dict[str, str], **parameters: str) -> subprocess.Popen[str]:
    """The installed console script, run as on a robot: the install space on PYTHONPATH, edgeq not importable."""
    script = install / package / "lib" / package / f"{package}_node"
    site = next((install / package / "lib").glob("python3*/site-packages"))
    env = dict(env, PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]))
    ros_args = [arg for name, value in parameters.items() for arg in ("-p", f"{name}:={value}")]
    runner = "import runpy, sys; sys.modules['edgeq'] = None; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    return subprocess.Popen(
        [sys.executable, "-c", runner, str(script), "--ros-args", *ros_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str], timeout: float = 20) -> tuple[str, str]:
    """Terminate exactly this process (kill it after ``timeout``); its stdout and stderr."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the node ignored SIGTERM; stderr: {err[-500:]}") from None


def _connect(peer: Peer, topic: str, node: subprocess.Popen[str]) -> Any:
    """A reliable Float32MultiArray publisher on ``topic``, once the node's subscription is matched."""
    publisher = peer.node.create_publisher(Float32MultiArray, topic, 100)

    def matched() -> bool:
        if node.poll() is not None:
            raise AssertionError(f"the node exited with {node.returncode}: {node.stderr.read()[-1500:]}")
        return publisher.get_subscription_count() > 0

    peer.spin_until(matched, START_S, "the node's subscription")
    return publisher


def _topics(name: str) -> tuple[str, str]:
    return f"/pkg_test_{os.getpid()}/{name}/in", f"/pkg_test_{os.getpid()}/{name}/out"


@pytest.mark.parametrize(("runtime", "target"), [("litert", "host"), ("engine", "host-c")])
def test_the_built_node_gives_the_runtimes_outputs_for_every_input(workspace, ros_env, peer, runtime, target):
    """N inputs in, N results out in order, equal to edgeq's target on the same quantized inputs; top-1 too.

    The litert node must give exactly LiteRT's outputs (edgeq's host target); the engine node exactly
    those of the engine edgeq builds for the host (host-c): the shared library colcon built runs the same C.
    """
    n = 8
    data = KWS.read_bytes()
    graph = read_model(data)
    spec, out_spec = model_inputs(graph)[0], model_outputs(graph)[0]
    x = np.random.default_rng(11).normal(0, 3, (n, *spec.sample_shape)).astype(np.float32)
    expected = out_spec.dequantize(get_target(target).run(data, [spec.quantize(x)])[0]).reshape(n, -1)

    topic_in, topic_out = _topics(runtime)
    results, top1 = peer.listen(Float32MultiArray, topic_out), peer.listen(Int32, f"{topic_out}/top1")
    timing = peer.listen(Float64MultiArray, f"{topic_out}/timing")
    node = start_node(
        workspace, f"kws_{runtime}", ros_env, input_topic=topic_in, output_topic=topic_out, qos="reliable",
        deadline_ms="1000", publish_timing="true",  # deadline_ms as an integer: taken for 1000.0
    )  # fmt: skip
    try:
        publisher = _connect(peer, topic_in, node)
        for sample in x:
            publisher.publish(Float32MultiArray(data=sample.reshape(-1).tolist()))
        peer.spin_until(lambda: min(len(results), len(top1), len(timing)) >= n, 30, f"{n} results")
    finally:
        out, err = stop(node)
    np.testing.assert_array_equal(np.array([r.data for r in results], np.float32), expected)
    assert [t.data for t in top1] == expected.argmax(1).tolist()
    assert [d.size for d in results[0].layout.dim] == [12]
    assert all(len(t.data) == 3 and t.data[0] > 0 for t in timing)
    assert node.returncode == 0, err
    assert "Traceback" not in err


def test_malformed_inputs_are_skipped_and_counted(workspace, ros_env, peer):
    """A wrong element count and a NaN are logged and counted; the next good input still gets its result."""
    topic_in, topic_out = _topics("malformed")
    results, diagnostics = peer.listen(Float32MultiArray, topic_out), peer.listen(DiagnosticArray, "/diagnostics")
    node = start_node(
        workspace, "kws_litert", ros_env, input_topic=topic_in, output_topic=topic_out, qos="reliable",
        deadline_ms="0.000001",
    )  # fmt: skip
    try:
        publisher = _connect(peer, topic_in, node)
        publisher.publish(Float32MultiArray(data=[1.0, 2.0]))
        bad = np.zeros(490, np.float32)
        bad[3] = np.nan
        publisher.publish(Float32MultiArray(data=bad.tolist()))
        publisher.publish(Float32MultiArray(data=np.ones(490, np.float32).tolist()))
        peer.spin_until(lambda: len(results) == 1, 30, "the good input's result")

        def counted() -> bool:
            values = _values(diagnostics[-1]) if diagnostics else {}
            return values.get("malformed") == "2" and values.get("processed") == "1"

        peer.spin_until(counted, 10, "/diagnostics counting the malformed inputs")
    finally:
        out, err = stop(node)
    values = _values(diagnostics[-1])
    assert values["received"] == "3" and values["deadline_misses"] == "1" and values["target"] == "litert"
    assert float(values["inference_p99_ms"]) > 0
    status = diagnostics[-1].status[0]
    assert status.level == DiagnosticStatus.WARN and "deadline" in status.message
    assert "2 values, but the model's inputs take 490" in err
    assert node.returncode == 0 and "Traceback" not in err


def test_a_bad_parameter_stops_the_node_with_one_line(workspace, ros_env):
    node = start_node(workspace, "kws_litert", ros_env, qos="bogus")
    try:
        node.wait(START_S)
    finally:
        out, err = stop(node)
    assert node.returncode == 2 and "qos 'bogus' is unknown; use sensor or reliable" in err
    assert "Traceback" not in err


def _values(array: DiagnosticArray) -> dict[str, str]:
    return {kv.key: kv.value for kv in array.status[0].values}


def test_the_package_is_complete_and_needs_no_edgeq(tmp_path):
    """package.xml (format 3, the dependencies), setup files, marker, launch file, model; the node imports no edgeq."""
    from catkin_pkg.package import parse_package

    from edgeq.ros2.package import write_package

    package = write_package(KWS, tmp_path / "kws", runtime="engine")
    folder = package.folder
    assert package.name == "int8" and (folder / "resource" / "int8").is_file()
    manifest = parse_package(str(folder / "package.xml"))
    assert manifest.package_format == 3 and manifest.get_build_type() == "ament_python"
    assert {"rclpy", "std_msgs", "sensor_msgs", "diagnostic_msgs"} <= {d.name for d in manifest.exec_depends}
    assert (folder / "int8" / "model.tflite").read_bytes() == KWS.read_bytes()
    assert (folder / "engine" / "net.c").is_file() and (folder / "engine" / "net.h").is_file()
    assert "install_scripts=$base/lib/int8" in (folder / "setup.cfg").read_text()
    source = (folder / "int8" / "node.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= NODE_IMPORTS, imported - NODE_IMPORTS
    assert len(source.splitlines()) < 360


def test_the_launch_file_declares_every_parameter(tmp_path, monkeypatch):
    """The launch description (launch and launch_ros stood in for) passes each launch argument as a typed parameter."""
    from edgeq.ros2.package import PARAMETERS, write_package

    package = write_package(KWS, tmp_path / "kws", name="kws")
    calls: dict[str, Any] = {}
    record = lambda kind: lambda *a, **k: calls.setdefault(kind, []).append((a, k)) or (kind, a, k)  # noqa: E731
    stubs = {
        "launch": {"LaunchDescription": record("description")},
        "launch.actions": {"DeclareLaunchArgument": record("argument")},
        "launch.substitutions": {"LaunchConfiguration": lambda name: ("config", name)},
        "launch_ros.actions": {"Node": record("node")},
        "launch_ros.parameter_descriptions": {"ParameterValue": lambda value, value_type: (value, value_type)},
    }
    for module, names in {**stubs, "launch_ros": {}}.items():
        monkeypatch.setitem(sys.modules, module, types.SimpleNamespace(**names))
    code = (package.folder / "launch" / "kws.launch.py").read_text()
    scope: dict[str, Any] = {}
    exec(compile(code, "kws.launch.py", "exec"), scope)  # noqa: S102
    scope["generate_launch_description"]()
    declared = {a[0]: k["default_value"] for a, k in calls["argument"]}
    assert declared == {
        name: str(default).lower() if kind is bool else str(default) for name, default, kind, _ in PARAMETERS
    }
    ((_, node),) = calls["node"]
    assert node["package"] == "kws" and node["executable"] == "kws_node"
    assert node["parameters"][0]["deadline_ms"] == (("config", "deadline_ms"), float)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--name", "Bad-Name"), 2, "is not a ROS package name"),
        (("--name", "a__b"), 2, "is not a ROS package name"),
        (("--name", "numpy"), 2, "would hide the Python module"),
        (("--runtime", "tflm"), 2, "Invalid value for '--runtime'"),
    ],
)
def test_bad_options_are_one_line_errors(cli, tmp_path, args, code, message):
    result = cli("ros2", "package", str(KWS), "-o", str(tmp_path / "pkg"), *args)
    assert result.exit_code == code and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "pkg").exists()


def test_bad_inputs_write_nothing(cli, tmp_path):
    """Not a .tflite, a stem that makes no package name, a non-empty folder, a corrupt model: nothing is written."""
    keras = FIXTURES / "zoo" / "kws_dscnn" / "model.keras"
    assert cli("ros2", "package", str(keras), "-o", str(tmp_path / "a")).exit_code == 2
    odd = tmp_path / "9lives.tflite"
    odd.write_bytes(KWS.read_bytes())
    result = cli("ros2", "package", str(odd), "-o", str(tmp_path / "b"))
    assert result.exit_code == 2 and "give --name" in result.stderr
    corrupt = tmp_path / "broken.tflite"
    corrupt.write_bytes(b"TFL3" * 5)
    assert cli("ros2", "package", str(corrupt), "-o", str(tmp_path / "c")).exit_code == 1
    full = tmp_path / "d"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    result = cli("ros2", "package", str(KWS), "-o", str(full))
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["9lives.tflite", "broken.tflite", "d"]
    assert [p.name for p in full.iterdir()] == ["notes.txt"]


def test_json_names_the_package_and_its_commands(cli, tmp_path):
    result = cli("ros2", "package", str(KWS), "-o", str(tmp_path / "kws"), "--name", "kws_model", "--json")
    assert result.exit_code == 0, result.stderr
    info = result.json()
    assert info["package"] == "kws_model" and info["runtime"] == "litert" and info["executable"] == "kws_model_node"
    assert info["build"] == "colcon build --packages-select kws_model"
    assert info["launch"] == "ros2 launch kws_model kws_model.launch.py"
    assert "kws_model/node.py" in info["files"] and "launch/kws_model.launch.py" in info["files"]


def _node_module(folder: Path, package: str) -> types.ModuleType:
    """The generated node.py imported in this process (it needs rclpy and numpy only)."""
    spec = importlib.util.spec_from_file_location(f"{package}_node_under_test", folder / package / "node.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_messages_decode_as_in_edgeq_ros2_run(tmp_path, monkeypatch):
    """Images (rgb8, bgr8, mono8 of another size), float and int8 arrays become the samples edgeq ros2 run makes."""
    from sensor_msgs.msg import Image
    from std_msgs.msg import Int8MultiArray

    from edgeq.ros2.messages import Decoder
    from edgeq.ros2.package import write_package

    vww = FIXTURES / "zoo" / "vww_mobilenet" / "int8.tflite"
    node = _node_module(write_package(vww, tmp_path / "vww", name="vww").folder, "vww")
    graph = read_model(vww.read_bytes())
    rgb = np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    frames = [
        Image(height=60, width=80, encoding="rgb8", step=240, data=rgb.tobytes()),
        Image(height=60, width=80, encoding="bgr8", step=240, data=np.ascontiguousarray(rgb[:, :, ::-1]).tobytes()),
        Image(height=60, width=80, encoding="mono8", step=80, data=rgb[:, :, 1].tobytes()),
    ]
    reference = Decoder(graph, "image", 1 / 255, -0.5)
    expected = [_flat(reference, frame) for frame in frames]
    for frame, sample in zip(frames, expected):
        np.testing.assert_array_equal(_flat(node, frame, "image", 1 / 255, -0.5), sample)
    with pytest.raises(node.Malformed, match="encoding 'yuv422'"):
        node.decode(Image(height=2, width=2, encoding="yuv422", step=4, data=bytes(8)), "image", 1.0, 0.0)
    monkeypatch.setitem(sys.modules, "PIL", None)  # a robot without Pillow: numpy's bilinear resize
    for frame, sample in zip(frames, expected):
        fallback = _flat(node, frame, "image", 1 / 255, -0.5).astype(int)
        assert np.abs(fallback - sample).max() <= 1

    kws = _node_module(write_package(KWS, tmp_path / "kws", name="kws").folder, "kws")
    floats = Float32MultiArray(data=np.random.default_rng(4).normal(0, 3, 490).astype(np.float32).tolist())
    quantized = Int8MultiArray(data=np.arange(-245, 245).astype(np.int8).tolist())
    for msg, kind in ((floats, "float32"), (quantized, "int8")):
        np.testing.assert_array_equal(_flat(kws, msg, kind, 1, 0), _flat(Decoder(read_model(KWS), kind), msg))


def _flat(decoder: Any, msg: Any, *args: Any) -> np.ndarray:
    """The first input of the sample ``decoder`` (the node module or edgeq's Decoder) makes of ``msg``, flat."""
    return np.asarray(decoder.decode(msg, *args)[0]).reshape(-1)
