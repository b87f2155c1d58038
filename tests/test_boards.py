"""The board database (boards/*.yaml), its loader and `edgeq boards`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edgeq.boards import (
    BOARDS_DIR,
    Board,
    BoardFileError,
    BoardKind,
    MemoryRegion,
    QemuSpec,
    board_from_dict,
    list_boards,
    load_board,
)
from edgeq.cli.boards import command
from edgeq.errors import EdgeqError, UsageError

FILES = sorted(BOARDS_DIR.glob("*.yaml"))
KIB, MIB = 1024, 1024 * 1024

# Vendor facts (docs/specs/boards.md): id -> (core, cores, clock Hz, flash bytes, RAM bytes); None = not given.
SPEC = {
    "nucleo-l4r5zi": ("cortex-m4f", 1, 120_000_000, 2 * MIB, 640 * KIB),
    "nucleo-h7a3zi-q": ("cortex-m7", 1, 280_000_000, 2 * MIB, 1376 * KIB),
    "nucleo-u575zi-q": ("cortex-m33", 1, 160_000_000, 2 * MIB, 786 * KIB),
    "nrf5340-dk": ("cortex-m33", 1, 128_000_000, 1 * MIB, 512 * KIB),
    "xg24-dk2601b": ("cortex-m33", 1, 78_000_000, 1536 * KIB, 256 * KIB),
    "nano33-ble-sense": ("cortex-m4f", 1, 64_000_000, 1 * MIB, 256 * KIB),
    "rpi-pico": ("cortex-m0plus", 2, 133_000_000, 2 * MIB, 264 * KIB),
    "esp32-s3": ("xtensa-lx7", 2, 240_000_000, None, 512 * KIB),
    "qemu-mps2-an385": ("cortex-m3", 1, 25_000_000, 4 * MIB, 4 * MIB),
    "qemu-mps2-an386": ("cortex-m4f", 1, 25_000_000, 4 * MIB, 4 * MIB),
    "qemu-mps2-an500": ("cortex-m7", 1, 25_000_000, 4 * MIB, 4 * MIB),
    "qemu-mps3-an547": ("cortex-m55", 1, 32_000_000, 512 * KIB, 4 * MIB),
    "rpi4": ("cortex-a72", 4, 1_500_000_000, None, None),
    "rpi5": ("cortex-a76", 4, 2_400_000_000, None, None),
    "coral-usb": ("edge-tpu", 1, None, None, None),
    "coral-devboard": ("cortex-a53", 4, None, None, None),
    "corstone-300": ("cortex-m55", 1, 32_000_000, None, 2 * MIB),
    "corstone-310": ("cortex-m85", 1, None, None, 4 * MIB),
    "alif-ensemble-e7": ("cortex-m55", 1, 400_000_000, 5632 * KIB, 7680 * KIB),
    "himax-we2": ("cortex-m55", 1, 400_000_000, None, 2688 * KIB),
    "imx93": ("cortex-a55", 2, None, None, None),
}
# Boards with an Arm Ethos-U: id -> (Vela accelerator config, register base, IRQ; None = not found, left out).
NPU_SPEC = {
    "corstone-300": ("ethos-u55-128", 0x58102000, 56),
    "corstone-310": ("ethos-u55-128", 0x50004000, 16),
    "alif-ensemble-e7": ("ethos-u55-256", 0x400E1000, 55),
    "himax-we2": ("ethos-u55-64", 0x53020000, 192),
    "imx93": ("ethos-u65-256", 0x4A900000, 178),
}
REQUIRED = (
    "id",
    "name",
    "kind",
    "vendor",
    "cpu",
    "clock_hz",
    "flash_bytes",
    "ram_bytes",
    "flasher",
    "runtimes",
    "sources",
)


def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict, name: str | None = None) -> Path:
    path = tmp_path / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the YAML files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_board_file_schema(path):
    raw = _raw(path)
    assert [key for key in REQUIRED if key not in raw] == []
    board = load_board(path)
    assert board.id == path.stem == raw["id"]
    assert board.clock_hz is None or 1e6 <= board.clock_hz <= 5e9
    for size in (board.flash_bytes, board.ram_bytes):
        assert size is None or (isinstance(size, int) and size > 0)
    if board.kind in (BoardKind.MCU, BoardKind.EMULATED_MCU):
        assert board.ram_bytes and board.clock_hz and board.serial
        assert board.flash_bytes or board.flash_external, "unknown MCU flash must be marked external"
    for name in ("cpu", "clock_hz", "flash_bytes", "ram_bytes", "serial", "memory_map", "qemu", "edgetpu"):
        if getattr(board, name) not in (None, ()):
            assert board.source(name), f"{name} has no source"
    assert all(p.source.strip() for p in board.power)
    assert all(r.source.strip() for r in board.reference_results)


def test_ids_are_unique_and_every_spec_board_is_there():
    ids = [_raw(path)["id"] for path in FILES]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(SPEC)
    kinds = [board.kind for board in list_boards()]
    assert len(kinds) == len(SPEC) and kinds == sorted(kinds, key=list(BoardKind).index)


@pytest.mark.parametrize("board_id", sorted(SPEC))
def test_board_facts_match_the_spec(board_id):
    board = load_board(board_id)
    core, cores, clock, flash, ram = SPEC[board_id]
    assert (board.cpu.core, board.cpu.cores, board.clock_hz) == (core, cores, clock)
    assert (board.flash_bytes, board.ram_bytes) == (flash, ram)


def test_isa_flags():
    assert load_board("qemu-mps3-an547").cpu.simd == "mve"
    assert load_board("rpi-pico").cpu.dsp is False
    assert load_board("qemu-mps2-an385").cpu.dsp is False
    assert load_board("nucleo-l4r5zi").cpu.dsp is True
    assert load_board("rpi4").cpu.simd == "neon"


def test_qemu_boards_memory_map_uart_and_timing():
    for board_id in ("qemu-mps2-an385", "qemu-mps2-an386", "qemu-mps2-an500"):
        board = load_board(board_id)
        regions = {r.role: (r.base, r.size) for r in board.memory_map}
        assert regions == {"code": (0x0, 4 * MIB), "data": (0x20000000, 4 * MIB)}
        assert board.serial.uart_base == 0x40004000 and board.serial.baud == 115200 and board.serial.format == "8N1"
        assert (board.qemu.icount_shift, board.qemu.instructions_per_systick) == (0, 40)
        assert board.qemu.cpi_assumption == 1.0 and "assumption" in board.qemu.cpi_source
        assert board.flasher == "qemu"
    an547 = load_board("qemu-mps3-an547")
    assert an547.qemu.machine == "mps3-an547" and an547.qemu.cpu == "cortex-m55"
    assert an547.serial.uart_base == 0x49303000
    regions = {r.name: (r.base, r.size) for r in an547.memory_map}
    assert regions["ITCM"] == (0x0, 512 * KIB) and regions["SRAM 2"] == (0x21000000, 4 * MIB)
    assert "differs from MPS2" in an547.source("memory_map")


# --- power and reference results -----------------------------------------------------------------


def _derived(board: Board):
    for figure in board.power:
        if figure.kind == "derived":
            results = [r for r in board.reference_results if r.submission == figure.derived_from]
            yield figure, [r.energy_uj / r.latency_ms for r in results if r.energy_uj is not None]


@pytest.mark.parametrize("board", list_boards(), ids=lambda b: b.id)
def test_derived_power_matches_the_results_it_comes_from(board):
    for figure, ratios in _derived(board):
        assert ratios, f"{figure.derived_from} has no energy results"
        low, high = figure.range_mw
        assert all(low <= x <= high for x in ratios)
        assert figure.value_mw == pytest.approx(sum(ratios) / len(ratios), abs=0.06)


@pytest.mark.parametrize(
    ("board_id", "low", "high"),
    [("nucleo-l4r5zi", 41, 47), ("nucleo-h7a3zi-q", 150, 165), ("nucleo-u575zi-q", 24, 27), ("xg24-dk2601b", 10, 11)],
)
def test_preferred_power_is_the_published_average(board_id, low, high):
    figure = load_board(board_id).power_mw()
    assert figure is not None and figure.kind == "derived" and figure.preferred
    assert low <= figure.value_mw <= high
    assert "energy / latency" in figure.source


def test_power_mw_falls_back_and_may_be_absent():
    assert load_board("coral-usb").power_mw().value_mw == 2000
    assert load_board("coral-usb").power_mw().kind == "datasheet"
    assert load_board("rpi4").power_mw() is None
    assert load_board("nucleo-l4r5zi").power_mw().derived_from == "mlperf-tiny v0.5"


def test_reference_results_from_the_spec():
    results = {(r.version, r.benchmark): r for r in load_board("nucleo-l4r5zi").reference_results}
    assert len(results) == 16
    assert (results["v0.5", "ic"].latency_ms, results["v0.5", "ic"].energy_uj) == (704.2, 29207)
    assert results["v1.3", "kws"].latency_ms == 43.4 and results["v1.3", "kws"].framework == "X-CUBE-AI 10.2"
    assert results["v1.0", "ad"].quality == 0.86 and results["v1.0", "kws"].quality == 90.2
    rpi4 = {r.benchmark: r for r in load_board("rpi4").reference_results}
    assert rpi4["vww"].latency_ms == 2.60 and rpi4["vww"].energy_uj is None and rpi4["vww"].power_mw is None
    tpu = load_board("coral-usb").edgetpu
    assert (tpu.tops_int8, tpu.tops_per_watt) == (4, 2)
    assert {(lat.model, lat.latency_ms) for lat in tpu.latencies} >= {("MobileNet v1 224", 2.4)}


# --- fits ----------------------------------------------------------------------------------------


def test_fits():
    board = load_board("nrf5340-dk")
    assert board.fits(1_000_000, 500_000) == []
    assert board.fits(1_070_276, 1000) == [
        "flash: 1,070,276 B needed exceeds the 1,048,576 B of nrf5340-dk by 21,700 B"
    ]
    assert board.fits(10, 600_000) == ["RAM: 600,000 B needed exceeds the 524,288 B of nrf5340-dk by 75,712 B"]
    assert len(board.fits(2 * MIB, 2 * MIB)) == 2
    assert load_board("esp32-s3").fits(64 * MIB, 1000) == []  # external flash of unknown size is not checked
    with pytest.raises(UsageError, match="non-negative"):
        board.fits(-1, 0)


# --- loading and errors --------------------------------------------------------------------------


def test_unknown_board():
    with pytest.raises(UsageError) as info:
        load_board("nucleo-f746zg")
    message = str(info.value)
    assert message.startswith(
        "unknown board 'nucleo-f746zg'; known boards: alif-ensemble-e7, coral-devboard, coral-usb, "
    )
    assert message.endswith("(edgeq boards lists them)")
    with pytest.raises(UsageError, match="does not exist"):
        load_board("missing/board.yaml")


def test_load_by_id_is_case_insensitive_and_by_path():
    assert load_board("NUCLEO-L4R5ZI") == load_board(BOARDS_DIR / "nucleo-l4r5zi.yaml")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clock_hz": "fast"}, "clock_hz"),
        ({"clock_hz": 100}, "clock_hz"),
        ({"flash_bytes": -1}, "flash_bytes"),
        ({"kind": "fpga"}, "kind"),
        ({"flasher": "jtag-magic"}, "flasher"),
        ({"runtimes": ["tensorflow"]}, "runtimes"),
        ({"colour": "blue"}, "unknown field 'colour'"),
        ({"sources": {"clock_hz": "ST"}}, "sources"),
        ({"power": [{"value_mw": -3, "kind": "datasheet", "source": "x"}]}, "power[0].value_mw"),
        ({"power": [{"value_mw": 41, "kind": "derived", "source": "x", "derived_from": "mlperf-tiny v9"}]}, "power[0]"),
        ({"cpu": {"core": "m4", "cores": 1, "arch": "armv7e-m", "dsp": "yes", "fpu": "sp", "simd": "none"}}, "cpu.dsp"),
    ],
)
def test_malformed_board_file_names_file_and_field(tmp_path, change, field):
    data = {**_raw(BOARDS_DIR / "nucleo-l4r5zi.yaml"), **change}
    path = _write(tmp_path, data)
    with pytest.raises(BoardFileError) as info:
        load_board(path)
    assert str(path) in str(info.value) and field in str(info.value)
    assert isinstance(info.value, EdgeqError)


def test_missing_field_bad_yaml_and_wrong_file_name(tmp_path):
    data = _raw(BOARDS_DIR / "nucleo-l4r5zi.yaml")
    del data["vendor"]
    with pytest.raises(BoardFileError, match="missing field 'vendor'"):
        load_board(_write(tmp_path, data))
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(BoardFileError, match="broken.yaml is not valid YAML"):
        load_board(bad)
    with pytest.raises(BoardFileError, match="differs from the file name"):
        load_board(_write(tmp_path, _raw(BOARDS_DIR / "rpi4.yaml"), name="raspberry"))


def test_inconsistent_derived_power_is_rejected(tmp_path):
    data = _raw(BOARDS_DIR / "xg24-dk2601b.yaml")
    data["power"][0]["range_mw"] = [9.5, 11.1]  # AD gives 8.7 mW
    with pytest.raises(BoardFileError, match=r"power\[0\]\.range_mw.*8\.71"):
        load_board(_write(tmp_path, data))


def test_dataclasses_validate_when_built():
    with pytest.raises(BoardFileError, match="size"):
        MemoryRegion(name="code", base=0, size=0, role="code")
    with pytest.raises(BoardFileError, match="instructions_per_systick"):
        QemuSpec(
            machine="mps2-an386",
            cpu="cortex-m4",
            systick_clock_hz=25_000_000,
            instructions_per_systick=25,
            cpi_assumption=1.0,
            cpi_source="assumption",
        )
    with pytest.raises(BoardFileError, match="must be a mapping"):
        board_from_dict(["not", "a", "board"])


# --- NPU boards ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("board_id", sorted(NPU_SPEC))
def test_npu_boards_name_their_npu_with_sources(board_id):
    board = load_board(board_id)
    accelerator, base, irq = NPU_SPEC[board_id]
    assert board.npu is not None and "tflm-ethos-u" in board.runtimes
    assert (board.npu.accelerator, board.npu.base_address, board.npu.irq) == (accelerator, base, irq)
    assert board.npu.model == accelerator.rsplit("-", 1)[0] and board.npu.macs == int(accelerator.rsplit("-", 1)[1])
    for name in ("model", "accelerator", "clock_hz", "base_address", "irq", "irq_vector", "system_config"):
        if getattr(board.npu, name) is not None:
            assert board.npu.sources.get(name, "").strip(), f"npu.{name} has no source"
    left_out = [n for n in ("clock_hz", "irq", "system_config", "memory_mode") if getattr(board.npu, n) is None]
    notes = " ".join(board.notes)
    assert all(f"npu.{name}" in notes for name in left_out), "a figure left out is named in the notes"


def test_boards_without_npu_have_none():
    assert sorted(b.id for b in list_boards() if b.npu is not None) == sorted(NPU_SPEC)
    assert load_board("nucleo-l4r5zi").npu is None and "tflm-ethos-u" not in load_board("nucleo-l4r5zi").runtimes


def _npu_board(**npu_change) -> dict:
    data = _raw(BOARDS_DIR / "corstone-300.yaml")
    data["npu"] = {**data["npu"], **npu_change}
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"runtimes": ["tflm"]}, "npu: block goes with the tflm-ethos-u runtime"),
        ({"accelerator": "ethos-u65-256"}, "npu.accelerator"),
        ({"model": "ethos-n78"}, "npu.model"),
        ({"irq": 5000}, "npu.irq"),
        ({"irq_vector": "not a name"}, "npu.irq_vector"),
        ({"base_address": 2**33}, "npu.base_address"),
        ({"voltage": 1}, "unknown field 'voltage'"),
        ({"memories": [{"name": "SRAM", "size": 0, "holds": "arena"}]}, "memories[0].size"),
        ({"memories": [{"name": "SRAM", "size": 16, "holds": "stack"}]}, "memories[0].holds"),
    ],
)
def test_malformed_npu_section_is_rejected(tmp_path, data, field):
    board = _npu_board(**{k: v for k, v in data.items() if k != "runtimes"})
    board.update({k: v for k, v in data.items() if k == "runtimes"})
    with pytest.raises(BoardFileError) as info:
        load_board(_write(tmp_path, board))
    assert field in str(info.value)


def test_npu_figures_need_sources(tmp_path):
    data = _npu_board()
    del data["npu"]["sources"]["irq"]
    with pytest.raises(BoardFileError, match="npu.sources: no source for irq"):
        load_board(_write(tmp_path, data))
    data = _raw(BOARDS_DIR / "nucleo-l4r5zi.yaml")
    data["runtimes"] = ["tflm", "tflm-ethos-u"]
    with pytest.raises(BoardFileError, match="npu: block goes with the tflm-ethos-u runtime"):
        load_board(_write(tmp_path, data))


def test_cli_lists_and_shows_the_npu():
    table = _invoke().output
    assert table.splitlines()[0].split()[-1] == "npu"
    row = next(line for line in table.splitlines() if line.startswith("corstone-300 "))
    assert row.split()[-1] == "ethos-u55-128" and "reference-design" in row
    shown = _invoke("show", "corstone-300").output
    assert "base address   0x58102000" in shown and "IRQ            56" in shown
    assert "SEC_ETHOS_U_NPU_BASE 0x58102000" in shown and "Ethos_U55_High_End_Embedded" in shown
    assert "unknown (see notes)" in _invoke("show", "imx93").output
    data = json.loads(_invoke("show", "himax-we2", "--json").output)
    assert data["npu"]["accelerator"] == "ethos-u55-64" and data["npu"]["irq"] == 192


def test_to_dict_is_json():
    data = json.loads(json.dumps(load_board("qemu-mps3-an547").to_dict()))
    assert data["kind"] == "emulated-mcu" and data["qemu"]["instructions_per_systick"] == 31.25
    assert "path" not in data


# --- CLI -----------------------------------------------------------------------------------------


def _invoke(*args: str):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_cli_table_lists_every_board():
    result = _invoke()
    assert result.exit_code == 0
    header = result.output.splitlines()[0].split()
    assert header[:4] == ["id", "name", "core", "clock"]
    for board_id in SPEC:
        assert f"\n{board_id} " in result.output


def test_cli_show_prints_facts_with_sources():
    result = _invoke("show", "nucleo-l4r5zi")
    assert result.exit_code == 0
    assert "clock      120 MHz" in result.output
    assert "source: STM32L4R5ZI maximum core clock 120 MHz" in result.output
    assert "mlcommons/tiny_results_v0.5" in result.output and "[preferred]" in result.output
    assert "0x40004000" in _invoke("show", "qemu-mps2-an386").output


def test_cli_json():
    listed = json.loads(_invoke("--json").output)
    assert sorted(b["id"] for b in listed) == sorted(SPEC)
    shown = json.loads(_invoke("show", "rpi5", "--json").output)
    assert shown["id"] == "rpi5" and shown["clock_hz"] == 2_400_000_000
    assert json.loads(_invoke("--json", "show", "rpi5").output)["id"] == "rpi5"


def test_cli_unknown_board_is_a_usage_error():
    result = _invoke("show", "nope")
    assert result.exit_code == 2
    assert "error: unknown board 'nope'" in result.stderr
    assert result.stdout == ""
