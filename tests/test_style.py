"""The code base passes ruff's lint and format checks (the project's style gate)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if not found:
        pytest.skip("ruff is not installed (pip install 'edgeq[dev]')")
    return [found]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff(args):
    out = subprocess.run([*_ruff(), *args, "edgeq", "tests", "scripts"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_child_process_goes_through_edgeq_procs():
    """A program started with plain subprocess would outlive a killed edgeq: edgeq.procs ties it to edgeq."""
    import re

    offenders = []
    for path in sorted((ROOT / "edgeq").rglob("*.py")):
        if path.name == "procs.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(
                r"\bsubprocess\.(run|Popen|call|check_call|check_output)\(|\bos\.(system|popen|spawn\w*)\(", line
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)


def test_no_file_refers_outside_the_repository():
    """Code, templates, tests and docs cite docs/specs/, never spec files that only exist beside the repository."""
    needles = [("shared" + "/specs").encode(), (".." + "/shared").encode()]
    paths = [ROOT / "README.md"]
    for top in ("edgeq", "scripts", "tests", "docs"):
        paths += [p for p in sorted((ROOT / top).rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    offenders = [
        f"{path.relative_to(ROOT)} mentions {needle.decode()}"
        for path in paths
        for needle in needles
        if needle in path.read_bytes()
    ]
    assert offenders == [], "\n".join(offenders)


def _c_sources() -> list[Path]:
    """The C sources clang-format keeps in style: the kernels and templates in edgeq/ and the C test helpers.

    (Not the .j2 templates: tests/codegen/test_engine_style.py checks the C they render.)
    """
    found = [p for p in (ROOT / "edgeq").rglob("*") if p.suffix in (".c", ".h", ".cpp")]
    for folder in (ROOT / "tests" / "codegen", ROOT / "tests" / "firmware"):
        found += [p for p in folder.rglob("*") if p.suffix in (".c", ".h", ".cpp") and "tflm_api" not in p.parts]
    return sorted(found)


def test_c_sources_follow_clang_format():
    """Every C source matches the repository's .clang-format (apply it with clang-format -i FILE)."""
    exe = shutil.which("clang-format")
    if exe is None:
        pytest.skip("clang-format is not installed (apt-get install clang-format; in scripts/apt-packages.txt)")
    files = _c_sources()
    assert len(files) > 20, files
    out = subprocess.run(
        [exe, "--dry-run", "-Werror", *(str(p.relative_to(ROOT)) for p in files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
