"""Fixtures for the serialdut tests: host_dut built once, devices on ptys cleaned up after each test."""

from __future__ import annotations

import pytest

from tests.serialdut.harness import HostDut, SimDut, build_host_dut

pytest.importorskip("serial", reason="pyserial is not installed")


@pytest.fixture(scope="session")
def host_dut_exe(tmp_path_factory):
    """tests/firmware/host_dut.c + edgeq_dut.c compiled with gcc (once per session)."""
    return build_host_dut(tmp_path_factory.mktemp("serialdut"))


@pytest.fixture
def host_dut(host_dut_exe):
    """host_dut(*flags) -> a HostDut on a pty, not booted yet; killed at teardown."""
    started: list[HostDut] = []

    def _make(*flags: str) -> HostDut:
        dut = HostDut(host_dut_exe, *flags)
        started.append(dut)
        return dut

    yield _make
    for dut in started:
        dut.stop()


@pytest.fixture
def sim_dut():
    """sim_dut(respond) -> a SimDut serving ``respond`` on a pty; closed at teardown."""
    made: list[SimDut] = []

    def _make(respond) -> SimDut:
        dut = SimDut(respond)
        made.append(dut)
        return dut

    yield _make
    for dut in made:
        dut.close()
