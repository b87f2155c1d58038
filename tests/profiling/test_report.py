"""``edgeq profile --report``: the Markdown table, the self-contained HTML, per-op engine times, a real browser render."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgeq.codegen.engine.hooks import engine_calls
from edgeq.errors import EdgeqError, UsageError
from edgeq.measurements import Energy, Memory, OpTime, Timing
from edgeq.model import read_model
from edgeq.profiling import profile
from edgeq.profiling.charts import latency_comparison
from edgeq.profiling.report import render_html, report_format, write_report
from edgeq.profiling.types import ProfileResult
from edgeq.targets import capabilities
from edgeq.targets.host_c import call_times
from edgeq.timing import LatencyStats
from tests.conftest import FIXTURES

CONV = FIXTURES / "tflite" / "conv_int8.tflite"
QEMU_SOURCE = "icount instructions / 120 MHz, every run the same"


def _result(target: str, ms, kind: str = "measured", **timing) -> ProfileResult:
    ms = tuple(float(v) for v in ms)
    t = Timing(ms, kind, f"{target} clock", **timing)
    return ProfileResult(target, "kws.tflite", len(ms), 2, LatencyStats.from_samples(np.array(ms)), t, 20.0)


def _results() -> list[ProfileResult]:
    rng = np.random.default_rng(1)
    qemu_energy = Energy(506.2, "estimated", "board power 41 mW x mean latency")
    return [
        _result("host", 0.05 + rng.gamma(2, 0.004, 60), memory=Memory(peak_rss_bytes=46_000_000)),
        _result("host-c", 0.25 + rng.gamma(2, 0.01, 60), memory=Memory(ram_bytes=16_512)),
        _result(
            "qemu-m4",
            [12.345678] * 60,
            "estimated",
            instructions=1_481_516,
            memory=Memory(ram_bytes=23_456, flash_bytes=60_000),
            energy=qemu_energy,
            notes=("emulated: no caches | no wait states",),
        ),
        _result("serial", 25 + rng.gamma(2, 0.3, 60), energy=Energy(900.0, "measured", "INA219 <power monitor>")),
    ]


OPS = (
    OpTime(0, 0, "CONV_2D", 120.0, 118.0, "clock_gettime around each kernel call"),
    OpTime(1, 3, "ADD", 80.0, 79.5, "clock_gettime around each kernel call", "CONV_2D (op 2) + ADD in place"),
    OpTime(2, 4, "SOFTMAX", 0.3, 0.29, "clock_gettime around each kernel call"),
)


def _with_ops(results: list[ProfileResult]) -> list[ProfileResult]:
    """The profiles as collected with per-op times: host-c has them, the others say why not (their capabilities)."""
    return [
        replace(r, op_times=OPS) if r.target == "host-c" else replace(r, no_op_times=capabilities(r.target).no_op_times)
        for r in results
    ]


def test_markdown_table_has_a_row_per_target_with_estimates_marked(tmp_path):
    path = tmp_path / "report.md"
    write_report(_with_ops(_results()), path)
    text = path.read_text()
    lines = text.splitlines()
    assert "| target | latency | mean ms | p50 ms | p90 ms | p99 ms | max ms | std ms | instructions |" in text
    qemu = next(line for line in lines if line.startswith("| qemu-m4 | estimated |"))
    assert (
        "| ~12.35 | ~12.35 |" in qemu
        and "| 1,481,516 | - | 23,456 | 60,000 |" in qemu
        and "| ~506.2 | estimated |" in qemu
    )
    serial = next(line for line in lines if line.startswith("| serial | measured |"))
    assert "~" not in serial and "| 900 | measured |" in serial
    summary = lines[: lines.index("", 3)]
    assert [line.split("|")[1].strip() for line in summary[4:]] == ["host", "host-c", "qemu-m4", "serial"]
    assert "estimated: board power 41 mW x mean latency" in text and "INA219 <power monitor>" in text
    assert "- qemu-m4: emulated: no caches \\| no wait states" not in text  # notes are list items, not cells
    assert "- qemu-m4: emulated: no caches | no wait states" in text
    assert "- serial: deadline 20 ms missed: p99 is" in text
    assert "| 1 | 3 | CONV_2D (op 2) + ADD in place | 80.00 | 79.50 |" in text


def test_unknown_extension_is_a_usage_error_and_writes_nothing(tmp_path):
    with pytest.raises(UsageError, match=r"unknown extension '\.txt'; allowed: \.html, \.md"):
        write_report(_results(), tmp_path / "report.txt")
    assert list(tmp_path.iterdir()) == []
    assert report_format("R.HTML") == "html" and report_format(Path("r.md")) == "md"


def test_html_is_self_contained_with_one_plot_per_target(tmp_path):
    path = tmp_path / "report.html"
    write_report(_with_ops(_results()), path)
    html = path.read_text()
    urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", html))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace only: nothing fetched at view time
    assert not re.search(r"(?:src|href)\s*=", html) and "url(" not in html
    for banned in ("<script", "<link", "@import", "@font-face", "<img", "<iframe"):
        assert banned not in html
    plots = re.findall(r'<svg [^>]*class="latency-plot" data-target="([^"]+)"', html)
    assert plots == ["host", "host-c", "qemu-m4", "serial"]
    assert re.findall(r'class="op-plot" data-target="([^"]+)"', html) == ["host-c"]
    assert html.count('class="latency-compare"') == 1 and html.count('class="energy-plot"') == 1
    assert "every run the same: ~12.35 ms" in html and 'stroke-dasharray="4 2"' in html  # the estimate is marked
    assert "INA219 &lt;power monitor&gt;" in html  # text is escaped
    assert "No per-op breakdown: LiteRT" in html
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_latency_axis_is_log_only_when_targets_differ_by_orders_of_magnitude():
    results = _results()
    assert "log scale" in latency_comparison(results)
    assert "log scale" not in latency_comparison([r for r in results if r.target in ("host", "host-c")])


def test_engine_op_times_cover_every_kernel_call_in_order():
    result = profile(CONV, "host-c", runs=5, warmup=1, op_times=True)
    ops = result.op_times
    assert ops is not None and result.no_op_times == ""
    graph = read_model(CONV)
    assert [o.position for o in ops] == list(range(len(ops))) and len(ops) >= 3
    assert all(o.name == graph.operators[o.op_index].name for o in ops)
    assert all(o.mean_us > 0 and o.p50_us > 0 for o in ops)
    assert "clock_gettime around each kernel call" in ops[0].source
    host = profile(CONV, "host", runs=5, op_times=True)
    assert host.op_times is None and "no per-op profiler" in host.no_op_times  # LiteRT's Python API
    assert profile(CONV, "host-c", runs=2).op_times is None  # only collected when asked for


def test_engine_hooks_compile_warning_free_with_and_without_the_define(tmp_path):
    from edgeq.targets.host_c import write_sources

    files = write_sources(CONV.read_bytes(), tmp_path)
    text = files["net.c"]
    assert "#define EQ_OP_BEGIN(i) ((void)0)" in text
    assert [c[0] for c in engine_calls(text)] == list(range(len(re.findall(r"^ +EQ_OP_END\(\d+\);$", text, re.M))))
    gcc = shutil.which("gcc") or pytest.skip("gcc is not installed")
    for extra in ([], ["-DEDGEQ_PROFILE_OPS"]):
        cmd = [gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", *extra, str(tmp_path / "net.c")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_call_times_rejects_a_short_transcript():
    assert call_times("1 2\n3 4\n", 2, 2).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(EdgeqError, match="unexpected output"):
        call_times("1 2\n3\n", 2, 2)


def test_cli_writes_the_html_report_with_engine_op_times(cli, tmp_path):
    path = tmp_path / "out" / "report.html"
    out = cli("profile", str(CONV), "--target", "host", "--target", "host-c", "--runs", "5", "--report", str(path))
    assert out.exit_code == 0, out.stderr
    assert f"report: {path}" in out.stderr and "host-c" in out.stdout
    html = path.read_text()
    assert re.findall(r'class="op-plot" data-target="([^"]+)"', html) == ["host-c"]
    assert len(re.findall(r'class="latency-plot"', html)) == 2


def test_cli_rejects_an_unknown_report_extension_before_profiling(cli, tmp_path):
    out = cli("profile", str(CONV), "--target", "host", "--report", str(tmp_path / "r.pdf"))
    assert out.exit_code == 2 and "unknown extension '.pdf'" in out.stderr
    assert out.stdout == ""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless browser: apt-get install chromium (listed in scripts/apt-packages.txt)")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The HTML report rendered by headless Chromium: (report, DOM, stderr of both runs, screenshot path)."""
    browser = _chromium()
    folder = tmp_path_factory.mktemp("browser")
    report = folder / "report.html"
    report.write_text(render_html(_with_ops(_results())))
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    base += ["--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]
    base += ["--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=3000", "--hide-scrollbars"]
    base += [f"--user-data-dir={folder / 'profile'}"]
    url = report.as_uri()
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    shot = folder / "shot.png"
    png = subprocess.run(
        [*base, "--window-size=1300,2400", f"--screenshot={shot}", url], capture_output=True, timeout=90
    )
    return dom.stdout, dom.stderr + png.stderr.decode(errors="replace"), shot


def test_browser_dom_has_the_table_rows_and_the_plots(rendered):
    dom, _, _ = rendered
    assert re.findall(r'<tr data-target="([^"]+)"', dom) == ["host", "host-c", "qemu-m4", "serial"]
    assert len(re.findall(r'<svg [^>]*class="latency-plot"', dom)) == 4
    assert len(re.findall(r"<rect ", dom)) > 20


def test_browser_logs_no_console_message(rendered):
    """Chromium logs malformed SVG attributes (NaN, negative sizes) and script errors as CONSOLE lines."""
    _, log, _ = rendered
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == []


def test_browser_screenshot_shows_measured_and_estimated_plots(rendered):
    from PIL import Image

    _, _, shot = rendered
    assert shot.exists(), "chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.shape == (2400, 1300, 3)

    def share(rgb: tuple[int, int, int]) -> float:
        return float((np.abs(pixels - np.array(rgb)).sum(axis=2) < 60).mean())

    assert share((0x3B, 0x6E, 0xA8)) > 0.001  # measured blue bars
    assert share((0xD9, 0x82, 0x2B)) > 0.0005  # estimated orange
    assert share((255, 255, 255)) > 0.5  # a page, not a crash screen
