"""What went wrong with ssh or with the runner on the board, as one-line errors that name the fix.

ssh exits 255 when it cannot connect or log in and says why on stderr;
otherwise its exit code is the remote command's. The runner
(:mod:`edgeq.remote.runner`) has its own exit codes for a missing numpy or
TFLite runtime. Both are pure functions of captured text, tested on transcripts.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable

from edgeq.errors import DependencyError, DeviceError, EdgeqError
from edgeq.remote import runner
from edgeq.remote.endpoint import Endpoint, SshOptions

Rule = Callable[[Endpoint, SshOptions], EdgeqError]
RUNTIME_PACKAGES = "pip install ai-edge-litert (or pip install tflite-runtime on older images)"


def _keyscan(ep: Endpoint) -> str:
    return f"ssh-keyscan {'' if ep.port in (None, 22) else f'-p {ep.port} '}{ep.host}"


def _port(ep: Endpoint) -> int:
    return ep.port or 22


def _host_changed(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    kh = opts.known_hosts_label
    return DeviceError(
        f"the host key of {ep.known_hosts_name} has CHANGED since it was recorded in {kh} (a reinstalled board, "
        "or someone in the middle); edgeq will not connect. If the board was reinstalled, check its new "
        f"fingerprint on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) against {_keyscan(ep)} "
        f"| ssh-keygen -lf -, then replace it: ssh-keygen -f {kh} -R '{ep.known_hosts_name}' && {_keyscan(ep)} >> {kh}"
    )


def _host_unknown(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    kh = opts.known_hosts_label
    return DeviceError(
        f"the host key of {ep.known_hosts_name} is not in {kh} and edgeq never accepts unknown keys; check its "
        f"fingerprint ({_keyscan(ep)} | ssh-keygen -lf -) against the board's own "
        f"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on its console), then add it: {_keyscan(ep)} >> {kh}"
    )


def _bad_key_mode(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    key = opts.identity or "your private key"
    return DeviceError(f"ssh ignored {key}: it is readable by other users; chmod 600 {key}")


def _auth(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    port = "" if ep.port in (None, 22) else f"-p {ep.port} "
    key = f"-i {opts.identity} " if opts.identity else ""
    return DeviceError(
        f"{ep.destination} refused key authentication (edgeq never uses passwords); add your key with "
        f"ssh-copy-id {port}{key}{ep.destination}, or name the right key with $EDGEQ_SSH_IDENTITY "
        "(a key with a passphrase must be loaded with ssh-add)"
    )


def _refused(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    return DeviceError(
        f"connection to {ep.host} port {_port(ep)} refused: no SSH server listens there; start it on the board "
        "(sudo systemctl enable --now ssh) or fix the port (ssh://user@host:PORT)"
    )


def _timeout(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    return DeviceError(
        f"no answer from {ep.host} port {_port(ep)} within {opts.connect_timeout:g} s; check that the board is "
        "powered and on the network and that the address is right (ping it)"
    )


def _unresolved(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    return DeviceError(
        f"cannot resolve the host name {ep.host!r}; fix the name or use the board's IP address (hostname -I on it)"
    )


def _unreachable(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    return DeviceError(f"{ep.host} is unreachable (no route to it); check the network and the board's address")


def _closed(ep: Endpoint, opts: SshOptions) -> EdgeqError:
    return DeviceError(
        f"the SSH server on {ep.host} closed the connection before login (too many connections, a firewall or "
        "fail2ban?); try again, and check the board's log (journalctl -u ssh)"
    )


# First match wins: a changed key also prints "Host key verification failed".
RULES: tuple[tuple[re.Pattern[str], Rule], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), rule)
    for pattern, rule in (
        (r"REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed", _host_changed),
        (r"host key is known for|Host key verification failed", _host_unknown),
        (r"UNPROTECTED PRIVATE KEY FILE", _bad_key_mode),
        (r"Permission denied \(|Too many authentication failures", _auth),
        (r"Connection refused", _refused),
        (r"timed out", _timeout),
        (r"Could not resolve hostname|Name or service not known|failure in name resolution", _unresolved),
        (r"No route to host|Network is unreachable", _unreachable),
        (r"Connection closed by|Connection reset by|kex_exchange_identification", _closed),
    )
)


def connection_failure(endpoint: Endpoint, options: SshOptions, stderr: str) -> EdgeqError | None:
    """The error ssh's ``stderr`` describes (host key, login, network), or None when it is none of those."""
    for pattern, rule in RULES:
        if pattern.search(stderr):
            return rule(endpoint, options)
    return None


def ssh_failure(endpoint: Endpoint, options: SshOptions, stderr: str) -> EdgeqError:
    """The error behind ssh's exit code 255: a known cause with its fix, else ssh's last words."""
    known = connection_failure(endpoint, options, stderr)
    if known is not None:
        return known
    return DeviceError(f"ssh to {endpoint.destination} failed: {tail(stderr) or 'no message (exit 255)'}")


def runner_failure(host: str, python: str, returncode: int, stderr: str) -> EdgeqError:
    """The error behind a non-zero exit of ``PYTHON runner.py`` on the board."""
    detail = _runner_message(stderr) or tail(stderr)
    where = f"on {host} ({python})"
    if returncode in (126, 127):
        problem = "was not found" if returncode == 127 else "cannot be executed"
        return DependencyError(
            f"{python} {problem} on {host}; install Python 3.9+ there (sudo apt install python3 python3-numpy) "
            "or name another interpreter with $EDGEQ_SSH_PYTHON"
        )
    if returncode == runner.EXIT_NO_NUMPY:
        return DependencyError(
            f"numpy is missing {where}; install it there: pip install numpy (or sudo apt install python3-numpy)"
        )
    if returncode == runner.EXIT_NO_RUNTIME:
        return DependencyError(f"no TFLite runtime {where}; install one there: {RUNTIME_PACKAGES}")
    if returncode in (runner.EXIT_BROKEN_RUNTIME, runner.EXIT_OLD_PYTHON):
        return DependencyError(f"{detail} {where}")
    if returncode == runner.EXIT_MODEL:
        return DeviceError(f"the TFLite runtime {where} could not run the model: {detail}")
    if returncode > 128:
        return DeviceError(_killed(returncode - 128, where))
    return DeviceError(f"the edgeq runner failed {where} (exit {returncode}): {detail or 'no message'}")


def _killed(number: int, where: str) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = "; the board probably ran out of memory (dmesg | grep -i oom)" if number == signal.SIGKILL else ""
    return f"the edgeq runner was killed by {name} {where}{hint}"


def _runner_message(stderr: str) -> str:
    lines = [line.split(runner.PREFIX, 1)[1].strip() for line in stderr.splitlines() if runner.PREFIX in line]
    return lines[-1] if lines else ""


def tail(text: str, lines: int = 2) -> str:
    """The last ``lines`` non-empty lines of ``text`` joined with "; "."""
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "; ".join(kept[-lines:])
