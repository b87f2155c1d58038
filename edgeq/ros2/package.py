"""``edgeq ros2 package``: a model as an ament_python ROS 2 package for a robot's colcon workspace.

The package (``OUT/``, named PKG)::

    package.xml, setup.py, setup.cfg    ament_python build files (colcon build --packages-select PKG)
    resource/PKG                        the ament index marker
    launch/PKG.launch.py                every node parameter as a launch argument
    PKG/node.py, PKG/model.tflite       the node (console script PKG_node) and the model
    engine/*.c, engine/*.h              --runtime engine only: edgeq's compiled engine, which setup.py
                                        builds into PKG/_engine*.so (a setuptools Extension)
    README.md

The node needs only rclpy, numpy and a TFLite runtime (``ai_edge_litert`` or
``tflite_runtime``; none with the engine): it does not import edgeq. It behaves
as ``edgeq ros2 run`` does (same parameters, messages, counters and
/diagnostics); the model's inputs and outputs (shapes, dtypes, quantization)
are written into it.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq import __version__
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.errors import UnsupportedError, UsageError
from edgeq.model import Graph, read_model
from edgeq.model.io import ModelIO, model_inputs, model_outputs
from edgeq.model.reader import read_bytes
from edgeq.render import render, write_folder
from edgeq.ros2.node import NodeOptions

RUNTIMES = ("litert", "engine")
RUNTIME_TEXT = {
    "litert": "the TFLite interpreter of ai_edge_litert or tflite_runtime",
    "engine": "edgeq's compiled engine, built by colcon build",
}
# REP 144: lowercase letters, digits and single underscores, starting with a letter, at least two characters.
PACKAGE_NAME = re.compile(r"[a-z](?:_?[a-z0-9])+")
# Names the node imports: a package called so would shadow them.
SHADOWED = frozenset(
    {"numpy", "rclpy", "std_msgs", "sensor_msgs", "diagnostic_msgs", "launch", "launch_ros", "ai_edge_litert"}
    | {"tflite_runtime", "setuptools", "builtin_interfaces", "rcl_interfaces", "ament_index_python"}
)
MODEL_FILE = "model.tflite"
NODE_DTYPES = ("int8", "uint8", "int16", "int32", "float32")  # the tensor dtypes the node exchanges
ENGINE_IDENT = "net"  # the engine's C prefix: net_invoke, net_input, net_output
_NODE = NodeOptions()  # edgeq ros2 run's defaults
# (name, default, type, description): the node's parameters, the same as edgeq ros2 run's options.
PARAMETERS: tuple[tuple[str, Any, type, str], ...] = (
    ("input_topic", _NODE.input_topic, str, "topic the inputs arrive on"),
    ("output_topic", _NODE.output_topic, str, "topic the results go to (and its /top1 and /header subtopics)"),
    (
        "input_type",
        _NODE.input_type,
        str,
        "float32 (Float32MultiArray), int8 (Int8MultiArray) or image (sensor_msgs/Image)",
    ),
    ("qos", _NODE.qos, str, "sensor: best effort, the newest input wins; reliable: every input in order"),
    ("deadline_ms", _NODE.deadline_ms, float, "inputs slower than this in the node count as misses (0: no deadline)"),
    ("scale", _NODE.scale, float, "images: pixel * scale + offset"),
    ("offset", _NODE.offset, float, "images: pixel * scale + offset"),
    ("publish_timing", _NODE.publish_timing, bool, "publish [inference, inference, node overhead] ms on .../timing"),
)


@dataclass(frozen=True)
class Ros2Package:
    """A written package; ``files`` are relative to ``folder``."""

    folder: Path
    name: str
    runtime: str
    model: str
    files: tuple[str, ...]

    @property
    def executable(self) -> str:
        return f"{self.name}_node"

    def to_dict(self) -> dict[str, Any]:
        """The package as JSON-ready values."""
        return {
            "folder": str(self.folder),
            "package": self.name,
            "runtime": self.runtime,
            "model": self.model,
            "executable": self.executable,
            "files": list(self.files),
            "build": f"colcon build --packages-select {self.name}",
            "launch": f"ros2 launch {self.name} {self.name}.launch.py",
            "run": f"ros2 run {self.name} {self.executable}",
        }


def package_name(model: Path | str, name: str | None = None) -> str:
    """``name`` checked against REP 144, or one made from the model's file stem; UsageError otherwise."""
    rule = "lowercase letters, digits and single underscores, starting with a letter (REP 144)"
    if name is None:
        candidate = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", Path(model).stem.lower())).strip("_")
        if not PACKAGE_NAME.fullmatch(candidate):
            raise UsageError(
                f"the model's file name {Path(model).name!r} makes no ROS package name; give --name: {rule}"
            )
        name = candidate
    elif not PACKAGE_NAME.fullmatch(name):
        raise UsageError(f"--name {name!r} is not a ROS package name; use {rule}")
    if name in SHADOWED or name in sys.stdlib_module_names:
        raise UsageError(f"package name {name!r} would hide the Python module of the same name; choose another --name")
    return name


def write_package(
    model: Path | str, out_dir: Path | str, name: str | None = None, runtime: str = "litert"
) -> Ros2Package:
    """Write the ROS 2 package for ``model`` into ``out_dir`` (a new or empty folder), all files or none.

    Raises:
        UsageError: an unknown runtime, a model that is not a .tflite file, a bad package name,
            or an output folder that is a file or not empty.
        ModelFormatError: a model file that cannot be read.
        UnsupportedError: ``runtime="engine"`` for a model the compiled engine cannot run.
    """
    model, out_dir = Path(model), Path(out_dir)
    if runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime {runtime!r}; use {' or '.join(RUNTIMES)}")
    if model.suffix.lower() != ".tflite":
        raise UsageError(f"{model} is not a .tflite model; convert it first (edgeq convert {model})")
    name = package_name(model, name)
    _check_out_dir(out_dir)
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    files = package_files(data, graph, name, runtime, model.name)
    write_folder(out_dir, files)
    return Ros2Package(out_dir, name, runtime, str(model), tuple(sorted(files)))


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file; -o takes the package's folder (new or empty)")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise UsageError(f"{out_dir} is not empty; give a new or empty folder for the package")


def package_files(data: bytes, graph: Graph, name: str, runtime: str, model_name: str) -> dict[str, str | bytes]:
    """Every file of the package, by path relative to its folder."""
    context = _context(graph, name, runtime, model_name)
    files: dict[str, str | bytes] = {
        "package.xml": render("ros2/package.xml.j2", **context),
        "setup.py": render("ros2/setup.py.j2", **context),
        "setup.cfg": render("ros2/setup.cfg.j2", **context),
        f"resource/{name}": "",
        f"launch/{name}.launch.py": render("ros2/launch.py.j2", **context),
        f"{name}/__init__.py": "",
        f"{name}/node.py": render("ros2/node.py.j2", **context),
        f"{name}/{MODEL_FILE}": data,
        "README.md": render("ros2/README.md.j2", **context),
    }
    if runtime == "engine":
        engine = build_engine(graph, model_context(graph, MODEL_FILE, ENGINE_IDENT))
        files.update({f"engine/{file}": content for file, content in engine.files.items()})
    return files


def _context(graph: Graph, name: str, runtime: str, model_name: str) -> dict[str, Any]:
    outputs = model_outputs(graph)
    return {
        "package": name,
        "runtime": runtime,
        "runtime_text": RUNTIME_TEXT[runtime],
        "model_name": re.sub(r"[^\w.+-]", "_", model_name),  # safe in Python strings and XML
        "model_file": MODEL_FILE,
        "edgeq_version": __version__,
        "inputs": [_tensor(t) for t in model_inputs(graph)],
        "outputs": [_tensor(t) for t in outputs],
        "output_names": [t.name for t in outputs],
        "classifier": len(outputs) == 1 and len(outputs[0].sample_shape) == 1 and outputs[0].sample_shape[0] > 1,
        "parameters": [
            (p, json.dumps(default) if isinstance(default, str) else repr(default)) for p, default, _, _ in PARAMETERS
        ],
        "arguments": [(p, _launch_text(default), kind.__name__, text) for p, default, kind, text in PARAMETERS],
    }


def _tensor(io: ModelIO) -> str:
    """One input or output as the node's Python literal ``Tensor(name, shape, dtype, scale, zero_point)``."""
    if io.dtype not in NODE_DTYPES:
        raise UnsupportedError(f"tensor {io.name!r} is {io.dtype}; the node exchanges {', '.join(NODE_DTYPES)} only")
    name, dtype = json.dumps(io.name), json.dumps(io.dtype)  # JSON strings are Python strings too
    return f"Tensor({name}, {tuple(io.shape)!r}, {dtype}, {io.scale!r}, {io.zero_point or 0})"


def _launch_text(value: object) -> str:
    """A parameter's default as a launch argument's text (``true``/``false`` for booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
