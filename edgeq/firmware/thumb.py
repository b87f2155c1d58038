"""A Cortex-M firmware image's instructions, as ``arm-none-eabi-objdump`` prints them, sorted into cost classes.

:func:`disassemble` reads every instruction of an ELF by address; :func:`decode`
turns one objdump line's mnemonic and operands into an :class:`Insn`: its class
(the rows of a core file in ``edgeq/boards/cores/``), the registers it writes,
the registers that form its memory address, and what it does to the program
counter. Only what the cycle estimate needs is decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.errors import EdgeqError
from edgeq.firmware.toolchain import tool

CONDITIONS = frozenset("eq ne cs hs cc lo mi pl vs vc hi ls ge lt gt le".split())
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)(?:\s+([^;@]*))?")
_REG = re.compile(r"\b(r1[0-5]|r[0-9]|sl|fp|ip|sp|lr|pc)\b")
_VREG = re.compile(r"\b([sdq])([0-9]+)\b")
_IT = re.compile(r"^it[te]{0,3}$")
_ALIASES = {"sl": "r10", "fp": "r11", "ip": "r12"}
_MUL = tuple("mul mla mls smul smla smls smmul smmla smmls smuad smusd umull umlal umaal usad".split())
_NO_DEST = ("cmp", "cmn", "tst", "teq", "nop", "pld", "pli", "msr", "wfi", "wfe", "sev", "bkpt", "svc", "cps")
_FP_MAC = tuple("vmla vmls vfma vfms vnmla vnmls vfnma vfnms".split())


@dataclass(frozen=True)
class Insn:
    """One decoded instruction.

    Attributes:
        mnemonic: as objdump prints it, without the width suffix (``ldr``, ``smlad``, ``bne``).
        kind: its cost class: alu, mul, div, load, store, load_double, multiple, branch, table_branch,
            fp, fp_mac, fp_div, fp_load, mve, barrier.
        writes: registers it writes (for the address-dependency stall and dual issue).
        reads: registers it names (a superset of those it reads: dual issue stays on the safe side).
        address: registers that form its memory address (loads and stores).
        reg_offset: a load or store with a register offset.
        words: 32-bit words a multiple load/store moves.
        to_pc: it writes the program counter (a branch by load, pop or move).
        conditional: a conditional branch (it may fall through).
    """

    mnemonic: str
    kind: str
    writes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    address: frozenset[str] = frozenset()
    reg_offset: bool = False
    words: int = 0
    to_pc: bool = False
    conditional: bool = False


# Decode as the newest M-profile architecture: without it objdump shows Helium (MVE) instructions as
# coprocessor ones (LDC, CDP); Armv7E-M code disassembles the same either way.
_OBJDUMP = ("-d", "--no-show-raw-insn", "-m", "armv8.1-m.main")


def disassemble(elf: Path) -> dict[int, Insn]:
    """Every instruction of ``elf`` by address (``arm-none-eabi-objdump -d``)."""
    done = procs.run([tool("objdump"), *_OBJDUMP, str(elf)], capture_output=True, text=True)
    if done.returncode != 0:
        raise EdgeqError(f"arm-none-eabi-objdump could not read {elf}: {done.stderr.strip()[:200]}")
    out: dict[int, Insn] = {}
    for line in done.stdout.splitlines():
        m = _LINE.match(line)
        if m is None or m[2].startswith("."):  # .word, .short: literal pools
            continue
        out[int(m[1], 16)] = decode(m[2], (m[3] or "").strip())
    return out


def _regs(text: str) -> frozenset[str]:
    return frozenset(_ALIASES.get(r, r) for r in _REG.findall(text))


def _list_words(text: str) -> int:
    """32-bit words in a register list such as ``{r4, r5, lr}``, ``{d8-d9}`` or ``{s16-s19}``."""
    inside = text[text.find("{") + 1 : text.find("}")]
    words = 0
    for part in (p.strip() for p in inside.split(",") if p.strip()):
        lo, _, hi = part.partition("-")
        first, last = _VREG.fullmatch(lo), _VREG.fullmatch(hi)
        count = int(last[2]) - int(first[2]) + 1 if first and last else 1
        words += count * (2 if first and first[1] == "d" else 1)
    return words


def decode(mnemonic: str, operands: str) -> Insn:
    """The :class:`Insn` of one instruction (objdump's mnemonic and operand text)."""
    m = mnemonic.split(".")[0]
    regs = _regs(operands)
    if _IT.match(m):
        return Insn(m, "alu")
    branch = _branch(m, operands, regs)
    if branch is not None:
        return branch
    if m.startswith(("ldrd", "strd")):
        return _memory(m, "load_double", operands, 2 if m.startswith("ldrd") else 0)
    if m.startswith(("ldm", "stm", "push", "pop", "vldm", "vstm", "vpush", "vpop")):
        to_pc = "pc" in regs and m.startswith(("ldm", "pop"))
        writes = regs - {"sp"} if m.startswith(("ldm", "pop", "vldm", "vpop")) else frozenset()
        return Insn(m, "multiple", writes=writes, reads=regs, words=_list_words(operands), to_pc=to_pc)
    if m.startswith(("ldr", "lda")):
        return _memory(m, "load", operands, 1)
    if m.startswith(("str", "stl")):
        return _memory(m, "store", operands, 0)
    if m.startswith(("vldr", "vstr")) or (m.startswith(("vld", "vst")) and "q" in _vregs(operands)):
        return _memory(m, "mve" if "q" in _vregs(operands) else "fp_load", operands, 0)
    if m.startswith("v"):
        kind = "mve" if "q" in _vregs(operands) else "fp_mac" if m.startswith(_FP_MAC) else "fp"
        kind = "fp_div" if m.startswith(("vdiv", "vsqrt")) else kind
        return Insn(m, kind, writes=_dest(m, operands, 1), reads=regs)
    kind = "div" if m.startswith(("sdiv", "udiv")) else "mul" if m.startswith(_MUL) else "alu"
    kind = "barrier" if m.startswith(("dsb", "dmb", "isb")) else kind
    long_mul = m.startswith(("smull", "umull", "smlal", "umlal", "umaal"))
    writes = _dest(m, operands, 2 if long_mul else 1)
    return Insn(m, kind, writes=writes, reads=regs, to_pc="pc" in writes)  # reads: also a two-operand form's dest


def _vregs(operands: str) -> set[str]:
    return {kind for kind, _ in _VREG.findall(operands)}


def _dest(m: str, operands: str, n: int) -> frozenset[str]:
    if m.startswith(_NO_DEST):
        return frozenset()
    names = [_ALIASES.get(t, t) for t in (x.strip() for x in operands.split(",")[:n])]
    return frozenset(t for t in names if _REG.fullmatch(t))


def _memory(m: str, kind: str, operands: str, loaded: int) -> Insn:
    """A load or store: the registers in brackets form the address; ``loaded`` leading registers are written."""
    inside = operands[operands.find("[") + 1 : operands.find("]")] if "[" in operands else ""
    address = _regs(inside)
    data = [_ALIASES.get(t, t) for t in (x.strip() for x in operands.split("[")[0].split(",")) if t]
    writes = frozenset(t for t in data[:loaded] if _REG.fullmatch(t))
    reg_offset = len(_REG.findall(inside)) > 1
    return Insn(
        m,
        kind,
        writes=writes,
        reads=_regs(operands) - writes,
        address=address,
        reg_offset=reg_offset,
        to_pc="pc" in writes,
    )


def _branch(m: str, operands: str, regs: frozenset[str]) -> Insn | None:
    if m in ("bl", "blx", "bx") or (m[:2] == "bx" and m[2:] in CONDITIONS):
        return Insn(m, "branch", reads=regs, writes=frozenset({"lr"}) if m.startswith("bl") else frozenset())
    if m == "b" or (m[:1] == "b" and m[1:] in CONDITIONS):
        return Insn(m, "branch", conditional=m != "b")
    if m in ("cbz", "cbnz"):
        return Insn(m, "branch", reads=regs, conditional=True)
    if m in ("tbb", "tbh"):
        return Insn(m, "table_branch", reads=regs)
    return None


__all__ = ["CONDITIONS", "Insn", "decode", "disassemble"]
