"""The search behind mixed precision: candidate groups, sensitivity ranking, greedy choice.

A candidate is one op of the model together with the ops that read its output
(through reshapes and other data-movement ops). Keeping only the op float would
not help an activation with a bad range: the quantizer puts a QUANTIZE with the
same calibrated range in front of its int8 consumers. Keeping the group float
keeps that activation, and the op's weights, in float.

Sensitivity is measured, not guessed: each group alone is kept float and the
model's output error against the float model is measured on calibration
samples (no labels needed, no peeking at the evaluation data); the gain is how
much of the int8 error it removes. Groups are then added greedily, most
sensitive first, until the accuracy on the evaluation data is within budget,
and a last pass drops any chosen group the budget does not need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgeq.convert.fidelity import ordered_inputs
from edgeq.litert import Runner
from edgeq.log import logger, progress, quiet
from edgeq.model import Graph
from edgeq.quant.requantize import DATA_MOVEMENT, compute_ops

Quantizer = Callable[[Sequence[str]], bytes]
Scorer = Callable[[bytes], float]


@dataclass(frozen=True)
class Group:
    """Ops kept float together: ``node`` (the op's output tensor) and the ops reading it."""

    op_index: int
    op: str
    node: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Sensitivity:
    """How much keeping one group float reduces the output error (a fraction of the int8 error)."""

    group: Group
    gain: float


def candidate_groups(graph: Graph) -> list[Group]:
    """One group per compute op of the calibrated float graph, in graph order."""
    return [Group(i, op, node, _group_nodes(graph, i)) for i, op, node in compute_ops(graph)]


def _group_nodes(graph: Graph, op_index: int) -> tuple[str, ...]:
    nodes = [graph.tensors[graph.operators[op_index].outputs[0]].name]
    frontier = list(graph.operators[op_index].outputs)
    while frontier:
        tensor = frontier.pop()
        for consumer in graph.consumers.get(tensor, ()):
            op = graph.operators[consumer]
            if not op.outputs or graph.tensors[op.outputs[0]].dtype != "float32":
                continue
            name = graph.tensors[op.outputs[0]].name
            if name not in nodes:
                nodes.append(name)
                if op.builtin in DATA_MOVEMENT:
                    frontier.extend(op.outputs)
    return tuple(nodes)


class OutputError:
    """Relative squared error of a model's first output against the float model on fixed samples."""

    def __init__(self, float_model: bytes, arrays: dict[str, np.ndarray], limit: int) -> None:
        self.arrays = {k: v[:limit] for k, v in arrays.items()}
        self.reference = run_outputs(float_model, self.arrays)
        self.power = max(float(np.mean(self.reference.astype(np.float64) ** 2)), 1e-30)

    def __call__(self, model: bytes) -> float:
        diff = run_outputs(model, self.arrays).astype(np.float64) - self.reference
        return float(np.mean(diff**2)) / self.power


def run_outputs(model: bytes, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The first output of ``model`` (dequantized) for every sample, stacked."""
    with quiet():
        runner = Runner(model)
    names = list(arrays)
    order = ordered_inputs(runner, names)
    count = len(arrays[names[0]])
    outputs = [runner.run_float([arrays[names[j]][i : i + 1] for j in order])[0][0] for i in range(count)]
    return np.stack(outputs)


def rank(groups: Sequence[Group], quantize: Quantizer, error: Callable[[bytes], float]) -> list[Sensitivity]:
    """Every group's gain, most sensitive first."""
    base = error(quantize(()))
    ranked = []
    for group in progress(groups, len(groups), "measuring layer sensitivity"):
        gain = (base - error(quantize(group.nodes))) / base if base > 0 else 0.0
        ranked.append(Sensitivity(group, gain))
        logger.debug("sensitivity %s %s: %.4f", group.op, group.node, gain)
    return sorted(ranked, key=lambda s: -s.gain)


@dataclass
class Search:
    """Greedy search state: the score of each tried set of groups."""

    quantize: Quantizer
    score: Scorer
    target: float
    trials: int = 0

    def evaluate(self, groups: Sequence[Group]) -> tuple[float, bytes]:
        model = self.quantize(nodes_of(groups))
        self.trials += 1
        return self.score(model), model

    def meets(self, value: float) -> bool:
        return value >= self.target - 1e-9

    def greedy(self, ranked: Sequence[Sensitivity]) -> tuple[list[Sensitivity], float, bytes] | None:
        """Add groups in ranked order until the score reaches ``target``; None if it never does."""
        chosen: list[Sensitivity] = []
        for item in progress(ranked, len(ranked), "choosing layers to keep float"):
            chosen.append(item)
            value, model = self.evaluate([c.group for c in chosen])
            logger.debug("kept float %d group(s): score %.4f (target %.4f)", len(chosen), value, self.target)
            if self.meets(value):
                return self.prune(chosen, value, model)
        return None

    def prune(self, chosen: list[Sensitivity], value: float, model: bytes) -> tuple[list[Sensitivity], float, bytes]:
        """Drop chosen groups the target does not need, least sensitive first."""
        for item in sorted(chosen, key=lambda c: c.gain)[:-1]:
            trial = [c for c in chosen if c is not item]
            trial_value, trial_model = self.evaluate([c.group for c in trial])
            if self.meets(trial_value):
                chosen, value, model = trial, trial_value, trial_model
        return chosen, value, model


def nodes_of(groups: Sequence[Group]) -> list[str]:
    """The union of the groups' nodes, without repeats."""
    return list(dict.fromkeys(n for g in groups for n in g.nodes))


__all__ = ["Group", "OutputError", "Search", "Sensitivity", "candidate_groups", "nodes_of", "rank", "run_outputs"]
