"""The MLPerf Tiny / EEMBC DUT protocol (edgeq/firmware/templates/common/edgeq_dut.c) driven like a board.

host_dut.c links the protocol to stdin/stdout and a small test model; each test
starts it on a pty and talks to the other end with pyserial, as a runner talks to
/dev/ttyACM0 or to QEMU's ``-serial pty``. Every test runs against a plain
``-Werror -pedantic`` build and an AddressSanitizer/UBSan build, and every session
must end with exit code 0 at end of input and nothing on stderr.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import subprocess
import tty
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest

from edgeq.render import template_dir

serial = pytest.importorskip("serial", reason="pyserial is not installed")

HERE = Path(__file__).resolve().parent
COMMON = template_dir("common")
SOURCES = [HERE / "host_dut.c", COMMON / "edgeq_dut.c"]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{COMMON}"]
BUILDS = {
    "plain": ["-O2"],
    "sanitized": ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
}
TIMEOUT = 10.0
LOADED = bytes(range(200, 216))  # the 16 bytes most tests load


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed; the firmware protocol tests compile C on the host")
    return path


def _compile(args: list[str]) -> None:
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stdout}{out.stderr}"


@pytest.fixture(scope="module", params=sorted(BUILDS))
def exe(request, tmp_path_factory) -> Path:
    """host_dut built plain or with sanitizers (module-scoped: built once per flavour)."""
    gcc = _compiler("gcc")
    path = tmp_path_factory.mktemp("dut") / f"host_dut_{request.param}"
    _compile([gcc, *CFLAGS, *BUILDS[request.param], *map(str, SOURCES), "-o", str(path)])
    return path


class Dut:
    """One host_dut process on a pty; the test holds the serial end."""

    def __init__(self, exe: Path, *flags: str):
        master, slave = os.openpty()
        tty.setraw(slave)
        # Open the port before the DUT boots: opening flushes the input queue.
        self.port = serial.Serial(os.ttyname(slave), 115200, timeout=TIMEOUT)
        os.close(slave)
        env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
        self.proc = subprocess.Popen([str(exe), *flags], stdin=master, stdout=master, stderr=subprocess.PIPE, env=env)
        os.close(master)

    def send(self, data: bytes | str) -> None:
        self.port.write(data.encode("ascii") if isinstance(data, str) else data)

    def reply(self) -> list[str]:
        """Lines up to and including m-ready, each checked to end in CR LF."""
        lines: list[str] = []
        while not lines or lines[-1] != "m-ready":
            raw = self.port.read_until(b"\r\n")
            assert raw.endswith(b"\r\n"), f"no complete line within {TIMEOUT} s after {lines}: {raw!r}"
            lines.append(raw[:-2].decode("ascii"))
        return lines

    def command(self, cmd: str) -> list[str]:
        self.send(cmd + "%")
        return self.reply()

    def load(self, data: bytes, chunk: int = 31) -> None:
        assert self.command(f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]", "m-ready"]
        for start in range(0, len(data), chunk):
            done = start + chunk >= len(data)
            assert self.command("db " + data[start : start + chunk].hex()) == (["m-load-done"] if done else []) + [
                "m-ready"
            ]

    def close(self) -> str:
        """End input; the DUT must exit 0 with nothing unexpected written. Returns stderr."""
        assert self.port.in_waiting == 0, f"unexpected output: {self.port.read(self.port.in_waiting)!r}"
        self.port.close()
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        finally:
            self.kill()
        stderr = err.decode("utf-8", "replace")
        assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr
        assert self.proc.returncode == 0, stderr
        return stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def start(exe):
    """start(*flags) -> Dut after its boot banner; sessions are checked and closed at teardown."""
    sessions: list[Dut] = []

    def _start(*flags: str, banner: bool = True) -> Dut:
        dut = Dut(exe, *flags)
        sessions.append(dut)
        if banner:
            dut.reply()
        return dut

    yield _start
    errors = []
    for dut in sessions:
        try:
            if dut.port.is_open:
                stderr = dut.close()
                assert set(stderr.split()) <= {"pin-0", "pin-1"}, stderr
        except AssertionError as exc:
            errors.append(exc)
        finally:
            dut.kill()
    if errors:
        raise errors[0]


def fmt3(value: float) -> str:
    """printf("%0.3f") of the float32 nearest value: its exact decimal value rounded, exact ties to even."""
    v = struct.unpack("<f", struct.pack("<f", value))[0]
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    with localcontext() as ctx:
        ctx.prec = 100
        text = f"{Decimal(v).quantize(Decimal('0.001'), rounding=ROUND_HALF_EVEN):f}"
    return text if text.startswith("-") or math.copysign(1.0, v) > 0 else "-" + text


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def lap(line: str) -> int:
    assert line.startswith("m-lap-us-"), line
    return int(line.removeprefix("m-lap-us-"))


def test_boot_banner(start):
    dut = start(banner=False)
    lines = dut.reply()
    assert [lines[0], lines[2], lines[3]] == ["m-timestamp-mode-performance", "m-init-done", "m-ready"]
    assert lap(lines[1]) >= 0
    assert len(lines) == 4


def test_name_profile_help_timestamp(start):
    dut = start()
    assert dut.command("name") == ["m-name-dut-[edgeq-host]", "m-ready"]
    assert dut.command("profile") == ["m-profile-[edgeq-test-1.0]", "m-model-[test01]", "m-ready"]
    help_lines = dut.command("help")
    text = "\n".join(help_lines)
    for word in ("name", "profile", "help", "timestamp", "db load N", "db HEX", "db print", "infer N W", "results"):
        assert word in text
    assert "1 <= N <= 64 (model input: 16 bytes)" in text
    assert "m-raw-[HEX]" in text
    assert not any(line.startswith("e-") for line in help_lines)
    first = lap(dut.command("timestamp")[0])
    second = dut.command("timestamp")
    assert len(second) == 2 and lap(second[0]) >= first


def test_load_print_infer_results(start):
    dut = start()
    assert dut.command("db load 16") == ["m-[Expecting 16 bytes]", "m-ready"]
    assert dut.command("db " + LOADED[:10].hex()) == ["m-ready"]
    assert dut.command("db " + LOADED[10:].hex().upper()) == ["m-load-done", "m-ready"]
    assert dut.command("db print") == [
        "m-buffer-c8-c9-ca-cb-cc-cd-ce-cf",
        "m-buffer-d0-d1-d2-d3-d4-d5-d6-d7",
        "m-ready",
    ]
    lines = dut.command("infer 5 2")
    results = f"m-results-[{fmt3(f32(sum(LOADED)) / 100)},{fmt3(215)},{fmt3(200)},{fmt3(7)}]"
    assert results == "m-results-[33.200,215.000,200.000,7.000]"
    assert lines[:3] == ["m-warmup-start-2", "m-warmup-done", "m-infer-start-5"]
    assert lines[5:] == ["m-infer-done", results, "m-ready"]
    t0, t1 = lap(lines[3]), lap(lines[4])
    assert t1 - t0 >= 5 * 100  # the test model spends 100 us per inference
    assert dut.command("results") == [results, "m-ready"]
    lines = dut.command("infer")  # N defaults to 1, W to 10
    assert lines[:3] == ["m-warmup-start-10", "m-warmup-done", "m-infer-start-1"]
    assert lap(lines[3]) >= t1 and lines[-2] == "m-results-[33.200,215.000,200.000,18.000]"


def test_full_chunks_of_31_bytes(start):
    dut = start()
    data = bytes((7 * i + 3) % 256 for i in range(64))
    dut.load(data)  # 31 + 31 + 2 bytes, 62 hex digits per command
    lines = dut.command("db print")
    assert lines == ["m-buffer-" + "-".join(f"{b:02x}" for b in data[i : i + 8]) for i in range(0, 64, 8)] + ["m-ready"]
    assert dut.command("infer 1 1") == ["e-[Model rejected the input]", "m-ready"]
    assert dut.command("results") == ["e-[No results: run infer first]", "m-ready"]


def test_anomaly_detection_reports_mse(start):
    dut = start("--mse")
    assert dut.command("profile")[1] == "m-model-[testad01]"
    values = [-128, -100, -7, -1, 0, 1, 2, 5, 7, 100, 127, 50, -50, 33, -34, 10]
    dut.load(bytes(v & 0xFF for v in values))
    recon = [math.trunc(v / 3) for v in values]
    mse = sum((r * 0.75 - v * 0.25) ** 2 for r, v in zip(recon, values)) / 16
    lines = dut.command("infer 2 1")
    assert lines[-2] == f"m-results-[{fmt3(mse)}]"
    assert dut.command("results") == [f"m-results-[{fmt3(mse)}]", "m-ready"]


def _raw_lines(data: bytes) -> list[str]:
    return [f"m-raw-[{data[i : i + 32].hex()}]" for i in range(0, len(data), 32)]


def test_raw_output_bytes(start):
    dut = start()
    assert dut.command("raw") == ["e-[No results: run infer first]", "m-ready"]
    values = [-128, -100, -7, -1, 0, 1, 2, 5, 7, 100, 127, 50, -50, 33, -34, 10]
    data = bytes(v & 0xFF for v in values)
    dut.load(data)
    assert dut.command("raw") == ["e-[No results: run infer first]", "m-ready"]
    dut.command("infer 2 1")
    recon = bytes(math.trunc(v / 3) & 0xFF for v in values)
    expected = data + recon + (3).to_bytes(8, "little")  # 40 bytes: a full line of 32, then 8
    lines = dut.command("raw")
    assert lines == _raw_lines(expected) + ["m-ready"]
    assert len(lines[0]) == len("m-raw-[]") + 64 and lines[0].islower()
    assert dut.command("dut raw") == lines  # the energy-mode interface board prefix
    assert dut.command("raw 1") == ["e-[Too many arguments for raw]", "m-ready"]
    assert dut.command("Raw") == ["e-[Unknown command: Raw]", "m-ready"]


def test_raw_needs_a_completed_inference(start):
    dut = start("--fail-invoke")
    dut.load(LOADED)
    dut.command("infer 1 0")
    assert dut.command("raw") == ["e-[No results: run infer first]", "m-ready"]


def test_raw_is_unknown_without_get_raw(start):
    dut = start("--no-raw")
    dut.load(LOADED)
    assert dut.command("infer 1 0")[-2].startswith("m-results-[")
    assert dut.command("raw") == ["e-[Unknown command: raw]", "m-ready"]
    assert dut.command("raw 1") == ["e-[Unknown command: raw]", "m-ready"]
    assert "m-raw" not in "\n".join(dut.command("help"))


BAD_LOADS = [
    ("db load 65", "e-[Byte count 65 exceeds the input buffer (64 bytes)]"),
    ("db load 4294967297", "e-[Number out of range: 4294967297]"),
    ("db load 0", "e-[Byte count must be >0]"),
    ("db load -5", "e-[Byte count must be >0]"),
    ("db load 12abc", "e-[Invalid byte count: 12abc]"),
    ("db load -", "e-[Invalid byte count: -]"),
    ("db load", "e-[db load needs a byte count]"),
    ("db load 1 2", "e-[Too many arguments for db]"),
    ("db", "e-[db needs an argument: load N, print or HEX]"),
]


def test_bad_load_keeps_old_buffer(start):
    dut = start()
    dut.load(LOADED)
    before = dut.command("db print")
    for cmd, error in BAD_LOADS:
        assert dut.command(cmd) == [error, "m-ready"], cmd
        assert dut.command("db print") == before
    assert dut.command("infer 1 0")[-2].startswith("m-results-[33.200,")


def test_bad_hex_writes_nothing(start):
    dut = start()
    assert dut.command("db 00") == ["e-[No db load in progress: send db load N first]", "m-ready"]
    assert dut.command("db load 16") == ["m-[Expecting 16 bytes]", "m-ready"]
    assert dut.command("db 01020304") == ["m-ready"]
    for cmd, error in [
        ("db abc", "e-[Odd number of hex digits]"),
        ("db 0g", "e-[Invalid hex digit: g]"),
        ("db 0011zz", "e-[Invalid hex digit: z]"),
        ("db 00 11", "e-[Too many arguments for db]"),
        ("db " + "00" * 13, "e-[Too many bytes: 13 sent, 12 left of the db load]"),
    ]:
        assert dut.command(cmd) == [error, "m-ready"], cmd
    assert dut.command("db print") == ["m-buffer-01-02-03-04", "m-ready"]
    assert dut.command("infer 1 1") == ["e-[Input incomplete: 4 of 16 bytes loaded]", "m-ready"]
    assert dut.command("db " + "ff" * 12) == ["m-load-done", "m-ready"]
    assert dut.command("db ff") == ["e-[Too many bytes: 1 sent, 0 left of the db load]", "m-ready"]
    assert dut.command("db print") == [
        "m-buffer-01-02-03-04-ff-ff-ff-ff",
        "m-buffer-ff-ff-ff-ff-ff-ff-ff-ff",
        "m-ready",
    ]


def test_bad_infer(start):
    dut = start()
    assert dut.command("infer 1 1") == ["e-[No input loaded: send db load N first]", "m-ready"]
    assert dut.command("results") == ["e-[No results: run infer first]", "m-ready"]
    dut.load(LOADED)
    for cmd, error in [
        ("infer 0 1", "e-[Inference iterations must be >0]"),
        ("infer -3", "e-[Inference iterations must be >0]"),
        ("infer -2147483647", "e-[Inference iterations must be >0]"),
        ("infer 2147483648", "e-[Number out of range: 2147483648]"),
        ("infer x", "e-[Invalid iteration count: x]"),
        ("infer 1 -1", "e-[Warm-up iterations must be >=0]"),
        ("infer 1 1.5", "e-[Invalid warm-up count: 1.5]"),
        ("infer 1 2 3", "e-[Too many arguments for infer]"),
    ]:
        assert dut.command(cmd) == [error, "m-ready"], cmd
    assert dut.command("results") == ["e-[No results: run infer first]", "m-ready"]


def test_failing_model(start):
    dut = start("--fail-invoke")
    dut.load(LOADED)
    assert dut.command("infer 3 2") == ["m-warmup-start-2", "e-[Inference failed: code -7]", "m-ready"]
    assert dut.command("infer 3 0") == [
        "m-warmup-start-0",
        "m-warmup-done",
        "m-infer-start-3",
        "e-[Inference failed: code -7]",
        "m-ready",
    ]
    assert dut.command("results") == ["e-[No results: run infer first]", "m-ready"]


def test_unknown_and_odd_commands(start):
    dut = start()
    assert dut.command("foo") == ["e-[Unknown command: foo]", "m-ready"]
    assert dut.command("Name") == ["e-[Unknown command: Name]", "m-ready"]
    assert dut.command("nme x y") == ["e-[Unknown command: nme]", "m-ready"]
    assert dut.command("name please") == ["e-[Too many arguments for name]", "m-ready"]
    assert dut.command("") == ["m-ready"]
    assert dut.command("   ") == ["m-ready"]
    assert dut.command("  name  ") == ["m-name-dut-[edgeq-host]", "m-ready"]
    assert dut.command("dut name") == ["m-name-dut-[edgeq-host]", "m-ready"]  # energy-mode interface board prefix


def test_command_length_limit(start):
    dut = start()
    assert dut.command("x" * 200) == ["e-[Command too long: max 80 characters]", "m-ready"]
    assert dut.command("name") == ["m-name-dut-[edgeq-host]", "m-ready"]
    assert dut.command("name" + " " * 76) == ["m-name-dut-[edgeq-host]", "m-ready"]  # exactly 80
    assert dut.command("name" + " " * 77) == ["e-[Command too long: max 80 characters]", "m-ready"]
    dut.load(LOADED)
    assert dut.command("db load 16" + "0" * 100) == ["e-[Command too long: max 80 characters]", "m-ready"]
    assert dut.command("db print")[0] == "m-buffer-c8-c9-ca-cb-cc-cd-ce-cf"
    dut.send("x" * 100 + " db lo")  # end of input in the middle of an over-long command: exit 0


def test_garbage_then_valid_command(start):
    dut = start()
    noise = bytes(b for b in range(256) if b < 0x20 or b > 0x7E)  # NUL, CR, LF, controls, non-ASCII
    dut.send(noise + b"na\r\nme" + noise + b"%")
    assert dut.reply() == ["m-name-dut-[edgeq-host]", "m-ready"]
    garbage = bytes(random.Random(7).randrange(256) for _ in range(2000))
    dut.send(garbage + b"%name%")
    for _ in range(garbage.count(b"%") + 1):
        lines = dut.reply()
        assert lines == ["m-ready"] or (len(lines) == 2 and lines[0].startswith("e-[")), lines
    assert dut.reply() == ["m-name-dut-[edgeq-host]", "m-ready"]
    dut.send("\r\ndb load 16\r\n%\n")
    assert dut.reply() == ["m-[Expecting 16 bytes]", "m-ready"]


def test_energy_mode(start):
    dut = start("--energy", banner=False)
    assert dut.reply() == ["m-timestamp-mode-energy", "m-init-done", "m-ready"]
    assert dut.command("timestamp") == ["m-ready"]
    dut.load(LOADED)
    lines = dut.command("infer 3 1")
    assert lines == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-3", "m-infer-done", lines[4], "m-ready"]
    stderr = dut.close()
    # idle high, then one falling edge each: boot, timestamp, inference start, inference end
    assert stderr.split() == ["pin-1"] + ["pin-0", "pin-1"] * 4


def _bits(value: float) -> int:
    return struct.unpack("<I", struct.pack("<f", value))[0]


def test_float_formatter(exe):
    rng = random.Random(11)
    specials = [0.0, -0.0, 0.0005, 0.0625, -0.0625, 0.0015, 0.9995, 9.9995, -2.5e-4, 1e-3, 1e9, -999999999.0]
    specials += [123456.789, 16777216.0, 2.0**60, 3.4028234663852886e38, -3.4028234663852886e38]
    patterns = [_bits(v) for v in specials] + [0x00000001, 0x80000001, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001]
    patterns += [rng.getrandbits(32) for _ in range(3000)]
    patterns += [_bits(rng.uniform(-1e4, 1e4)) for _ in range(2000)]
    patterns += [_bits((k + 0.5) / 1000) for k in range(-3000, 3000, 7)] + [_bits(k / 16) for k in range(-200, 200)]
    text = "".join(f"{p:08x}\n" for p in patterns)
    out = subprocess.run([str(exe), "--format"], input=text, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    got = out.stdout.splitlines()
    assert len(got) == len(patterns)
    for pattern, line in zip(patterns, got):
        value = struct.unpack("<f", struct.pack("<I", pattern))[0]
        assert line == fmt3(value), f"{pattern:08x} {value!r}"
        if math.isfinite(value):
            assert line == f"{value:.3f}", f"{pattern:08x} {value!r}"  # Python's %.3f is C's printf
    # 0.0625 is an exact tie in binary (62.5 thousandths): to even, like printf; the float32 nearest
    # 0.0005 lies just above the tie. The only exact ties are odd multiples of 1/16 (all in `patterns`).
    assert got[:6] == ["0.000", "-0.000", "0.001", "0.062", "-0.062", "0.002"]


def test_compiles_as_cpp(tmp_path):
    """TFLM's main.cc is C++: the protocol compiles as C++11 and links from C++ through the extern "C" header."""
    gxx, gcc = _compiler("g++"), _compiler("gcc")
    strict = ["-Wall", "-Wextra", "-Werror", f"-I{COMMON}"]
    _compile([gxx, "-x", "c++", "-std=c++11", *strict, "-c", str(COMMON / "edgeq_dut.c"), "-o", str(tmp_path / "a.o")])
    _compile([gcc, "-std=c99", "-pedantic", *strict, "-c", str(COMMON / "edgeq_dut.c"), "-o", str(tmp_path / "dut.o")])
    host = tmp_path / "host.o"
    _compile([gxx, "-x", "c++", "-std=c++11", *strict, "-c", str(HERE / "host_dut.c"), "-o", str(host)])
    _compile([gxx, str(host), str(tmp_path / "dut.o"), "-o", str(tmp_path / "mixed")])
    out = subprocess.run([str(tmp_path / "mixed")], input=b"name%", capture_output=True, timeout=TIMEOUT)
    assert out.returncode == 0
    assert out.stdout.endswith(b"m-ready\r\nm-name-dut-[edgeq-host]\r\nm-ready\r\n")
