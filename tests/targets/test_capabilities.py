"""Every target declares what it can do, is built one way, and the profile asks it, not a list kept elsewhere."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from edgeq.errors import UsageError
from edgeq.model import read_model, reader
from edgeq.profiling import profile
from edgeq.targets import PREFIXED, TARGETS, Capabilities, capabilities, get_target, target_names
from tests.conftest import FIXTURES

CONV = FIXTURES / "tflite" / "conv_int8.tflite"
MODULES = sorted({*TARGETS.values(), *PREFIXED.values()})


@pytest.mark.parametrize("module_name", MODULES)
def test_every_target_module_declares_capabilities_and_one_constructor(module_name):
    module = importlib.import_module(f"edgeq.targets.{module_name}")
    caps = module.CAPABILITIES
    assert isinstance(caps, Capabilities) and caps.summary
    assert not hasattr(module, "TARGET"), "one construction convention: make_target, no module-level instance"
    params = inspect.signature(module.make_target).parameters
    assert list(params)[0] == "name"
    keywords = {n for n, p in params.items() if n != "name" and p.kind is not p.VAR_KEYWORD}
    assert keywords <= set(caps.options), f"make_target takes options its capabilities do not list: {keywords}"
    assert caps.op_times or caps.no_op_times, "a target without per-op times says why"


@pytest.mark.parametrize("name", [n for n in TARGETS if n not in ("serial", "coral")])
def test_the_built_target_carries_its_capabilities_and_the_methods_they_promise(name):
    target = get_target(name)
    assert target.capabilities is capabilities(name)
    assert callable(target.run)
    assert callable(getattr(target, "profile", None)) == target.capabilities.profile
    assert callable(getattr(target, "op_times", None)) == target.capabilities.op_times


def test_an_option_a_target_does_not_take_is_named_with_the_ones_it_does():
    with pytest.raises(UsageError, match=r"^target host-c takes no --port option; it takes: no options$"):
        get_target("host-c", port="/dev/ttyACM0")
    with pytest.raises(UsageError, match=r"^target serial takes no --device option; it takes: --port, --baud, --via$"):
        get_target("serial", device="usb:0")
    get_target("host", xnnpack=False, port=None)  # None means "not given"


def test_unknown_target_lists_every_name():
    with pytest.raises(UsageError) as info:
        get_target("qemu-m3")
    assert all(n in str(info.value) for n in target_names()) and "ssh://user@host[:port]" in str(info.value)


def test_profile_parses_the_model_once_and_collects_op_times_in_the_same_call(monkeypatch):
    parses = []
    real = reader._parse
    monkeypatch.setattr(reader, "_PARSED", {})
    monkeypatch.setattr(reader, "_parse", lambda data, name, digest: parses.append(name) or real(data, name, digest))
    result = profile(CONV, "host-c", runs=3, warmup=1, op_times=True)
    assert len(parses) == 1, parses
    assert result.op_times and result.no_op_times == ""
    assert result.timing.memory.ram_bytes is not None


def test_the_io_manager_option_reaches_the_serial_target_and_no_other(cli, tmp_path):
    assert get_target("serial", via="io-manager").via == "io-manager"
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, *read_model(CONV).input_tensors[0].shape[1:]), np.int8))
    out = cli(
        "run", str(CONV), "--target", "host", "--via", "io-manager", "--input", str(x), "-o", str(tmp_path / "y.npy")
    )
    assert out.exit_code == 2 and "target host takes no --via option" in out.stderr
