"""The companion loop: frames from a source through a model session, results to the autopilot over MAVLink.

One thread does everything, in short steps, so that the heartbeat keeps its
1 Hz while frames wait: service the link (heartbeat out, messages in, link
state), wait for the next frame's time, take a frame, infer, dequantize,
encode and send. Inference runs whether or not the link is up; results sent
while it is not count as undelivered.

Ctrl-C and SIGTERM are the usual way to stop a companion: they end the loop
where it is, :attr:`Stats.stopped_by` names the signal, the session's context
is left (which stops what the target started, QEMU included) and the link is
closed; the command then prints its summary and exits 0, as ``edgeq ros2 run``
does. A signal that arrives while the session is still starting (QEMU
booting) stops edgeq the usual way (exit 130 or 143).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeq.errors import EdgeqError
from edgeq.log import logger
from edgeq.mavlink.link import Endpoint, Link
from edgeq.mavlink.messages import Encoder
from edgeq.mavlink.sources import Source
from edgeq.model.io import ModelIO
from edgeq.procs import Terminated, termination_received
from edgeq.streaming import open_session


@dataclass(frozen=True)
class Settings:
    """How the loop runs: ``rate`` (Hz), optional ``count``/``duration`` ends, ``wait_s`` for the first heartbeat."""

    rate: float = 10.0
    count: int | None = None
    duration: float | None = None
    wait_s: float = 10.0
    sysid: int = 1
    compid: int = 191


@dataclass
class Stats:
    """What a run did; ``summary()`` is the one-line report, ``to_dict()`` the --json object."""

    connection: str
    rate: float
    frames: int = 0
    sent: int = 0
    undelivered: int = 0
    skipped: int = 0
    malformed: int = 0
    messages: int = 0
    link_losses: int = 0
    reopens: int = 0
    elapsed_s: float = 0.0
    first_at: float = 0.0  # clock time of the first and the last frame (the achieved rate)
    last_at: float = 0.0
    stopped_by: str = ""
    autopilot: dict[str, Any] | None = None
    timing: str = ""
    estimated: bool = False
    ms: list[float] = field(default_factory=list)

    @property
    def achieved_hz(self) -> float:
        """Frames per second between the first frame and the last."""
        span = self.last_at - self.first_at
        return (self.frames - 1) / span if self.frames > 1 and span > 0 else 0.0

    @property
    def dropped(self) -> int:
        return self.skipped + self.undelivered + self.malformed

    def latency(self) -> dict[str, float] | None:
        if not self.ms:
            return None
        p50, p99 = np.percentile(np.asarray(self.ms), [50, 99])
        return {"p50": float(p50), "p99": float(p99), "mean": float(np.mean(self.ms))}

    def to_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "rate_hz": self.rate,
            "achieved_hz": self.achieved_hz,
            "elapsed_s": self.elapsed_s,
            "frames": self.frames,
            "sent": self.sent,
            "dropped": self.dropped,
            "skipped": self.skipped,
            "undelivered": self.undelivered,
            "malformed": self.malformed,
            "messages": self.messages,
            "link_losses": self.link_losses,
            "reopens": self.reopens,
            "autopilot": self.autopilot,
            "inference_ms": self.latency(),
            "inference_estimated": self.estimated,
            "inference_source": self.timing,
            "stopped_by": self.stopped_by,
        }

    def summary(self) -> str:
        hz = self.achieved_hz
        lat = self.latency()
        mark = "~" if self.estimated else ""
        timing = (
            f"inference p50 {mark}{lat['p50']:.3f} ms p99 {mark}{lat['p99']:.3f} ms ({self.timing})"
            if lat
            else "no inference"
        )
        return (
            f"{self.frames} frames in {self.elapsed_s:.1f} s ({hz:.1f} Hz of {self.rate:g}), {self.sent} sent, "
            f"{self.dropped} dropped ({self.skipped} skipped behind the rate, {self.undelivered} while the link was "
            f"down, {self.malformed} malformed), {self.link_losses} link losses; {timing}; stopped by {self.stopped_by}"
        )


class Companion:
    """The loop of one run (see the module doc)."""

    def __init__(
        self,
        session: Any,
        link: Link,
        source: Source,
        encoder: Encoder,
        outputs: tuple[ModelIO, ...],
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        origin: float | None = None,
    ) -> None:
        self.session, self.link, self.source, self.encoder = session, link, source, encoder
        self.outputs, self.settings, self.clock = outputs, settings, clock
        self.origin = clock() if origin is None else origin
        self.stats = Stats(link.endpoint.url, settings.rate, timing=getattr(session, "source", ""))
        self.period = 1.0 / settings.rate

    def run(self) -> Stats:
        """Loop until the count, the duration, the end of the input or a signal; the stats."""
        start = self.clock()
        try:
            _wait(self.link, self.settings.wait_s)
            start = self.clock()
            self.stats.stopped_by = self._loop(start)
        except (KeyboardInterrupt, Terminated) as exc:
            self._interrupted(exc)
        except EdgeqError as exc:
            if (signum := termination_received()) is None:
                raise
            self._interrupted(Terminated(signum))
            logger.debug("%s", exc)
        self.stats.elapsed_s = self.clock() - start
        self._final()
        return self.stats

    def _interrupted(self, exc: BaseException) -> None:
        self.stats.stopped_by = exc.name if isinstance(exc, Terminated) else "SIGINT"

    def _final(self) -> None:
        s, link = self.stats, self.link
        s.link_losses, s.reopens = link.losses, link.reopens
        s.skipped += self.source.skipped
        s.malformed = self.source.malformed
        if link.autopilot is not None:
            a = link.autopilot
            s.autopilot = {"sysid": a.sysid, "compid": a.compid, "autopilot": a.autopilot, "type": a.type}

    def _loop(self, start: float) -> str:
        settings, due = self.settings, start
        while True:
            if settings.count is not None and self.stats.frames >= settings.count:
                return "count"
            now = self.clock()
            if settings.duration is not None and now - start >= settings.duration:
                return "duration"
            self.link.service()
            if now < due:
                time.sleep(min(due - now, 0.02))
                continue
            if self.source.paced:
                behind = int((now - due) / self.period)
                if behind:
                    self.source.skip(behind)
                    self.stats.skipped += behind
                due += (behind + 1) * self.period
            try:
                frame = self.source.poll(0.02)
            except EOFError:
                return "end of input"
            if frame is None:
                continue
            if not self.source.paced:
                taken = self.clock()
                due = due + self.period if taken - due < self.period else taken + self.period
            self._frame(frame)

    def _frame(self, frame: list[np.ndarray]) -> None:
        now = self.clock()
        self.stats.first_at = self.stats.first_at if self.stats.frames else now
        self.stats.last_at = now
        result = self.session.infer(frame)
        self.stats.ms.append(result.ms)
        self.stats.estimated |= bool(result.estimated)
        real = [spec.dequantize(np.asarray(raw)) for spec, raw in zip(self.outputs, result.outputs)]
        messages = self.encoder.encode(real, int((self.clock() - self.origin) * 1e6))
        up = self.link.up
        written = [self.link.send(name, fields) for name, fields in messages]
        self.stats.messages += sum(written)
        self.stats.frames += 1
        if up and all(written):
            self.stats.sent += 1
        else:
            self.stats.undelivered += 1


def run_companion(
    model: bytes,
    target: str,
    target_options: dict[str, object],
    endpoint: Endpoint,
    source: Source,
    encoder: Encoder,
    outputs: tuple[ModelIO, ...],
    settings: Settings,
) -> Stats:
    """Open the session on ``target`` and the link, wait for the autopilot, run the loop; every resource closed."""
    origin = time.monotonic()
    try:
        source.open()
        with open_session(model, target, **target_options) as session:
            link = Link(endpoint, settings.sysid, settings.compid)
            try:
                return Companion(session, link, source, encoder, outputs, settings, origin=origin).run()
            finally:
                link.close()
    finally:
        source.close()


def _wait(link: Link, wait_s: float) -> None:
    logger.info("waiting up to %g s for the autopilot's heartbeat on %s", wait_s, link.endpoint.url)
    if not link.wait_for_autopilot(wait_s):
        logger.warning(
            "no autopilot heartbeat on %s within %g s; running anyway (results count as undelivered until one "
            "arrives); check the connection and the autopilot's MAVLink port",
            link.endpoint.url,
            wait_s,
        )
