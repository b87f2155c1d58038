"""The cycle model against the Cortex-M4 manual: microbenchmark loops counted by the QEMU plugin.

``cycles/loops.S`` holds eight loops whose cycles per iteration follow from the
Cortex-M4 TRM's timing rules (pipelined loads, load-use address chains, LDRD,
SMLAD, the address-generation stall, stores, taken and untaken branches, calls).
Each runs twice, 100 and 1,100 iterations, between the hooks the plugin counts
between, on QEMU's mps2-an386; the difference of the two is 1,000 iterations,
whatever the function entry and exit cost.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edgeq.boards.cores import load_core_timing
from edgeq.firmware.counts import hook_addresses, plugin_args, plugin_library, read_counts
from edgeq.firmware.cycles import block_cycles, bucket_costs
from edgeq.firmware.thumb import decode, disassemble

HERE = Path(__file__).parent / "cycles"
LOOPS = ("loads", "chase", "doubles", "macs", "address", "stores", "branchy", "calls")
# cycles per iteration from the Cortex-M4 TRM (zero wait states, pipeline refill P = 2):
M4_MANUAL = {
    "loads": 2 + 1 + 1 + 1 + 3,  # LDR, two LDRs pipelined behind it, SUBS, BNE taken (1 + P)
    "chase": 2 + 2 + 2 + 1 + 3,  # each LDR's address is the last one's result: no pipelining
    "doubles": 3 + 3 + 1 + 3,  # LDRD is 3 and pipelines with nothing
    "macs": 2 + 1 + 1 + 1 + 1 + 3,  # SMLAD is 1
    "address": 1 + 3 + 1 + 3,  # LDR after the ADD that formed its address: 2 + 1 stall
    "stores": 1 + 1 + 2 + 1 + 3,  # STR [Rn, #imm] is 1, STR [Rn, Rm] 2
    "branchy": (1 + 1 + 1 + 1 + 3 + 1 + 3 + 1 + 3) / 2,  # BEQ falls through, then is taken, in turn
    "calls": 3 + 3 + 1 + 3,  # BL and BX LR are taken branches
}
INSTRUCTIONS = {"loads": 5, "chase": 5, "doubles": 4, "macs": 6, "address": 4, "stores": 5, "branchy": 4.5, "calls": 4}


@pytest.fixture(scope="module")
def per_iteration(tmp_path_factory):
    """{core: {loop: (instructions, cycles) per iteration}} from one QEMU run of the loops."""
    for tool, package in (("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("qemu-system-arm", "qemu-system-arm")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install {package})")
    tmp = tmp_path_factory.mktemp("cycles")
    elf, out = tmp / "loops.elf", tmp / "counts.txt"
    flags = ["-mcpu=cortex-m4", "-mthumb", "-O2", "-Wall", "-Wextra", "-Werror", "-nostdlib", "-nostartfiles"]
    build = ["arm-none-eabi-gcc", *flags, "-T", str(HERE / "link.ld"), "-o", str(elf)]
    subprocess.run([*build, str(HERE / "main.c"), str(HERE / "loops.S")], check=True)
    qemu = ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-icount", "shift=0", "-nographic"]
    qemu += ["-monitor", "none", "-semihosting-config", "enable=on,target=native"]
    qemu += [*plugin_args(plugin_library(), elf, 2 * len(LOOPS), out), "-kernel", str(elf)]
    subprocess.run(qemu, check=True, timeout=60, capture_output=True)
    counts, code = read_counts(out), disassemble(elf)
    assert counts.calls == 2 * len(LOOPS)
    found = {}
    for core in ("cortex-m4", "cortex-m7", "cortex-m55"):
        costs = bucket_costs(counts, code, load_core_timing(core))
        found[core] = {
            name: (
                (costs[2 * i + 1].instructions - costs[2 * i].instructions) / 1000,
                (costs[2 * i + 1].cycles - costs[2 * i].cycles) / 1000,
            )
            for i, name in enumerate(LOOPS)
        }
    return found


@pytest.mark.parametrize("loop", LOOPS)
def test_m4_estimate_matches_the_manual(per_iteration, loop):
    instructions, cycles = per_iteration["cortex-m4"][loop]
    assert instructions == pytest.approx(INSTRUCTIONS[loop], abs=0.01)
    assert cycles == pytest.approx(M4_MANUAL[loop], abs=0.01)


def test_dual_issue_m7_and_tcm_m55_are_never_slower_than_the_m4(per_iteration):
    for loop in LOOPS:
        m4 = per_iteration["cortex-m4"][loop][1]
        assert per_iteration["cortex-m7"][loop][1] < m4
        assert per_iteration["cortex-m55"][loop][1] <= m4 + 0.01
    # the M7 issues SUBS beside the load before it: the loop of three loads is 3 + 0 + 1
    assert per_iteration["cortex-m7"]["loads"][1] == pytest.approx(4.0, abs=0.01)


def test_hooks_are_found_and_missing_hooks_are_refused(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    elf = tmp_path / "bare.elf"
    (tmp_path / "bare.c").write_text("void reset(void) { for (;;) {} }\n")
    cmd = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles", "-e", "reset"]
    subprocess.run([*cmd, "-o", str(elf), str(tmp_path / "bare.c")], check=True)
    assert hook_addresses(elf) == {}
    with pytest.raises(Exception, match="no eq_op_begin/eq_op_end hooks"):
        plugin_args(Path("/nonexistent.so"), elf, 3, tmp_path / "out.txt")


def test_decoding_sorts_instructions_into_cost_classes():
    assert decode("ldr.w", "r3, [r1, r2, lsl #1]").reg_offset
    assert decode("ldr", "r3, [r1, r2, lsl #1]").address == {"r1", "r2"}
    assert decode("ldrd", "r6, r7, [r1], #8").writes == {"r6", "r7"}
    pop = decode("pop", "{r4, r5, r6, pc}")
    assert pop.kind == "multiple" and pop.words == 4 and pop.to_pc
    assert decode("vpush", "{d8-d9}").words == 4
    assert decode("smlalbb", "r0, r1, r2, r3").kind == "mul"
    assert decode("bls.n", "3220 <x+0x4>").conditional and decode("bl", "3220 <f>").kind == "branch"
    assert decode("bics", "r1, r2").kind == "alu" and decode("itte", "gt").kind == "alu"
    assert decode("sdiv", "r0, r1, r2").kind == "div" and decode("vmla.f32", "s0, s1, s2").kind == "fp_mac"
    assert decode("vldrb.s8", "q0, [r0]").kind == "mve" and decode("ldrlt", "r0, [r1]").kind == "load"


def test_block_rules_pop_with_pc_and_refill():
    m4 = load_core_timing("cortex-m4")
    block = [decode("push", "{r4, r5, r6, r7, lr}"), decode("pop", "{r4, r5, r6, r7, pc}")]
    base, taken = block_cycles(block, m4)
    assert base == (1 + 5) + (1 + 5 + 3)  # 1 + N each; popping the PC adds the refill
    assert taken == 0.0  # the pop's refill is already in; only a final branch adds one
    assert block_cycles([decode("bne.n", "10")], m4) == (1.0, 2.0)


def test_helium_instructions_are_decoded_as_vector_instructions(tmp_path):
    """objdump's default decoding shows MVE instructions as coprocessor ones; the cost classes need them."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    (tmp_path / "dot.c").write_text(
        "#include <arm_mve.h>\n"
        "int dot(const short *a, const signed char *w, int acc) {\n"
        "    return vmladavaq_s16(acc, vldrbq_s16(w), vld1q_s16(a));\n"
        "}\n"
        "void reset(void) { for (;;) {} }\n"
    )
    elf = tmp_path / "dot.elf"
    cmd = ["arm-none-eabi-gcc", "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2", "-nostdlib", "-e", "reset"]
    subprocess.run([*cmd, "-o", str(elf), str(tmp_path / "dot.c")], check=True)
    kinds = {insn.mnemonic: insn.kind for insn in disassemble(elf).values()}
    assert kinds.get("vmlava") == "mve" and kinds.get("vldrb") == "mve" and kinds.get("vldrh") == "mve", kinds
    assert "ldc" not in kinds and "cdp" not in kinds
