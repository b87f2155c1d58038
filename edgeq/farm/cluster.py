"""Joining a Ray cluster as a driver, and calling a function on a node with the right boards.

Ray (the ``farm`` extra) is imported inside functions only: ``edgeq --help``
and every command without ``--farm`` work without it.

Ray executes whatever code is sent to it, so every address a farm uses must
be a loopback or private one (RFC 1918, IPv6 unique-local, link-local)
unless the caller explicitly allows public ones.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

from edgeq.errors import DependencyError, DeviceError, EdgeqError, UsageError
from edgeq.procs import Terminated

NAMESPACE = "edgeq_farm"  # Ray namespace of the farm's named actors and KV entries
CONNECT_TIMEOUT_S = 5.0


class FarmError(EdgeqError):
    """The cluster cannot be reached, or it cannot run the job (no host offers the board)."""


def import_ray() -> Any:
    """The ``ray`` module, or a one-line DependencyError naming the extra to install.

    Ray's core worker would install absl's failure-signal handler in this
    process (read from the environment when ray is first imported): it takes
    SIGTERM before edgeq's own handling and could abort the driver (exit -6)
    after edgeq had stopped cleanly. edgeq handles SIGTERM itself, so it is off
    unless the user set ``RAY_DISABLE_FAILURE_SIGNAL_HANDLER``.
    """
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    try:
        import ray
    except ImportError:
        raise DependencyError("the farm needs Ray: pip install 'edgeq[farm]'") from None
    return ray


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) -> (host, port); UsageError for anything else."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--farm/--address must be HOST:PORT (e.g. 10.0.0.5:6379), got {address!r}")
    return host, int(port)


def resolve(host: str) -> str:
    """The IP address ``host`` names (UsageError when it does not resolve)."""
    try:
        return str(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)[0][4][0])
    except (socket.gaierror, UnicodeError):
        raise UsageError(f"cannot resolve {host!r}; give an IP address or a name this host resolves") from None


def is_private(ip: str) -> bool:
    """True for loopback, private (RFC 1918 / RFC 4193) and link-local addresses."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    return addr.is_loopback or addr.is_link_local or (addr.is_private and not addr.is_unspecified)


def is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip.split("%")[0]).is_loopback


def check_private(what: str, host: str, allow_public: bool = False) -> str:
    """The IP of ``host``; UsageError when it is public (or unspecified) and ``allow_public`` is off."""
    ip = resolve(host)
    if ipaddress.ip_address(ip.split("%")[0]).is_unspecified:
        raise UsageError(f"{what} {host} is an unspecified address; give one interface's private address")
    if not allow_public and not is_private(ip):
        raise UsageError(
            f"{what} {host} ({ip}) is not a private or loopback address; Ray runs any code sent to it, so keep "
            "the farm on a private network (or pass --allow-public if the network is otherwise protected)"
        )
    return ip


def local_ip_towards(ip: str) -> str:
    """The address of this host's interface that reaches ``ip`` (the address itself for a loopback one)."""
    if is_loopback(ip):
        return ip
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((ip, 9))  # UDP: no packet is sent, the kernel only picks the route
        return str(probe.getsockname()[0])


def check_head(address: str, allow_public: bool = False) -> tuple[str, int]:
    """Check that a Ray head answers at ``address`` (a TCP connect), returning (ip, port).

    Raises FarmError, one line, when nothing listens there: a head that is gone
    fails here instead of inside Ray's own retries.
    """
    host, port = split_address(address)
    ip = check_private("the head address", host, allow_public)
    try:
        with socket.create_connection((ip, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise FarmError(
            f"no Ray head answers at {address} ({exc.strerror or exc}); start it on that host "
            f"(ray start --head --port={port} --include-dashboard=false) or correct the address"
        ) from None
    return ip, port


@contextlib.contextmanager
def connect(
    address: str | None, allow_public: bool = False, resources: dict[str, float] | None = None
) -> Iterator[Any]:
    """Connect this process to Ray for the block; yields the ``ray`` module.

    ``address`` None starts a private Ray instance on this machine, bound to
    127.0.0.1 with no dashboard, and shuts it down on exit; ``resources`` are
    its custom resources (e.g. ``{target_resource("host-c"): 2}`` so that
    :func:`remote_call` asking for them runs here; without them such a call
    would wait forever). ``HOST:PORT``
    joins a running cluster as a driver (this host must run a node of it: the
    head or an agent); the driver binds to the interface that reaches the head
    (127.0.0.1 for a loopback head). ``ray://HOST:PORT`` uses Ray Client.
    While connected, whatever Ray prints goes to stderr (stdout carries only
    the command's own output, e.g. its ``--json`` object).
    FarmError when the head does not answer.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray  # an enclosing connect() (or the caller) owns the connection
        return
    kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False, "namespace": NAMESPACE}
    loopback = True
    if address is None:
        kwargs.update(include_dashboard=False, _node_ip_address="127.0.0.1", resources=dict(resources or {}))
    elif address.startswith("ray://"):
        check_head(address[len("ray://") :], allow_public)
        kwargs.update(address=address)
    else:
        ip, port = check_head(address, allow_public)
        kwargs.update(address=f"{ip}:{port}", _node_ip_address=local_ip_towards(ip))
        loopback = is_loopback(ip)
    if address is not None:
        _token_auth_like_ray_start()
    with (
        _instance_token() if address is None else contextlib.nullcontext(),
        contextlib.redirect_stdout(sys.stderr),  # Ray's own messages (retries, worker logs): stdout stays ours
    ):
        try:
            with _keep_loopback(loopback), _signals_held() as pending:
                ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise FarmError(f"cannot join the Ray cluster at {address}: {_first_line(exc)}") from None
        session = _session_dir(ray) if address is None else None
        try:
            _raise_held(pending)
            yield ray
        except (KeyboardInterrupt, Terminated):
            if session:  # stop our private instance before the driver: no task can complete during shutdown
                _kill_leftovers(session)
            raise
        finally:
            ray.shutdown()
            if session:
                _kill_leftovers(session)


@contextlib.contextmanager
def _instance_token() -> Iterator[None]:
    """A token of its own for a private local instance, in a temporary file removed afterwards.

    Ray would otherwise write one to ``~/.ray/auth_token``, a file that outlives
    the command. A token already configured (``RAY_AUTH_TOKEN`` or
    ``RAY_AUTH_TOKEN_PATH``) is used as it is.
    """
    import secrets
    import tempfile

    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="edgeq-ray-token-") as folder:
        path = os.path.join(folder, "token")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
        saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")}
        os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=path)
        try:
            _token_auth_like_ray_start()
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _session_dir(ray: Any) -> str | None:
    """The session folder of the local instance this process started (its processes name it), or None."""
    try:
        return str(ray._private.worker.global_worker.node.get_session_dir_path())
    except Exception:  # Ray-internal; without it there is just no sweep for leftovers
        return None


def _kill_leftovers(session: str) -> None:
    """SIGKILL what of a stopped local instance still runs (Ray leaves its dashboard agent for a minute)."""
    import os
    import signal
    from pathlib import Path

    mark = session.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP arriving while ``ray.init`` runs are noted, not raised.

    Raised in the middle of Ray's start they would leave a half-made core worker
    that aborts the process at exit; noted, they are raised (:func:`_raise_held`)
    once Ray has started, where ``ray.shutdown`` stops it cleanly.
    """
    import signal
    import threading

    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    held = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {sig: signal.getsignal(sig) for sig in held}
    for sig in held:
        signal.signal(sig, lambda signum, frame: pending.append(signum))
    try:
        yield pending
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _raise_held(pending: list[int]) -> None:
    """The first signal :func:`_signals_held` noted, raised as edgeq raises it (KeyboardInterrupt, Terminated)."""
    import signal

    if not pending:
        return
    if pending[0] == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(pending[0])


def _token_auth_like_ray_start() -> None:
    """Use Ray's token authentication when this host has a token, as ``ray start`` (the agents) does.

    ``RAY_AUTH_MODE=token`` with ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``
    (or ``~/.ray/auth_token``) on every host of the farm makes every Ray call
    carry the lab's token; ``ray.init`` with an address would otherwise not
    send it.
    """
    from ray import _raylet
    from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available

    raylet: Any = _raylet  # Config and AuthenticationTokenLoader have no type stubs
    if maybe_enable_token_auth_if_token_available(warn_if_disabled=False):
        raylet.Config.initialize("")  # Ray read RAY_AUTH_MODE at import; the environment may have changed since
        raylet.AuthenticationTokenLoader.instance().reset_cache()


@contextlib.contextmanager
def _keep_loopback(active: bool) -> Iterator[None]:
    """While Ray starts or joins: keep 127.0.0.1 as given instead of the host's routable address.

    Ray swaps a loopback node address for the routable one unless its cluster
    switch is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``, read at import);
    turning the switch off while ``ray.init`` runs keeps a local instance, or
    a driver of a farm on loopback, on 127.0.0.1.
    """
    if not active:
        yield
        return
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


_REMOTE: dict[Callable[..., Any], Any] = {}


def remote_call(fn: Callable[..., Any], *args: Any, resources: dict[str, float], retries: int = 3) -> Any:
    """Run ``fn(*args)`` as a Ray task holding ``resources``; returns its ``ray.ObjectRef``.

    The task takes one CPU and the given custom resources (e.g.
    ``{target_resource("qemu-m4"): 1}``: one free emulator slot, held for the
    whole call). It is retried up to ``retries`` times when its node dies and
    when it raises :class:`edgeq.errors.DeviceError` (a board that stopped
    answering; :mod:`edgeq.farm.jobs` marks it unhealthy first, so the retry
    gets another board). ``fn`` must be importable on every node (a module-level
    function of an installed package) and its arguments and result picklable.
    Call inside :func:`connect`; get the result with :func:`result`.
    """
    ray = import_ray()
    remote = _REMOTE.get(fn)
    if remote is None:
        remote = _REMOTE[fn] = ray.remote(fn)
    options = {"num_cpus": 1, "resources": dict(resources), "max_retries": retries, "retry_exceptions": [DeviceError]}
    return remote.options(**options).remote(*args)


def result(ref: Any, timeout: float | None = None) -> Any:
    """``ray.get(ref)``, with the task's own edgeq error re-raised as it was (one line, its exit code).

    A task that failed for good on Ray's side (its node died more often than it
    was retried, the cluster went away) becomes a FarmError.
    """
    ray = import_ray()
    from ray import exceptions as rx

    try:
        return ray.get(ref, timeout=timeout)
    except rx.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, EdgeqError):
            raise cause from None
        raise
    except (rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError, rx.TaskUnschedulableError) as exc:
        raise FarmError(f"the farm job failed: {_first_line(exc)}") from None
    except rx.GetTimeoutError:
        raise FarmError(f"the farm job did not finish within {timeout:g} s") from None


def total_resources() -> dict[str, float]:
    """The cluster's total resources (every node's boards, busy or not)."""
    return dict(import_ray().cluster_resources())


__all__ = [
    "FarmError",
    "NAMESPACE",
    "check_head",
    "check_private",
    "connect",
    "remote_call",
    "result",
    "split_address",
    "total_resources",
]
