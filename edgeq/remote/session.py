"""The OpenSSH client (``ssh``, ``scp``): key-only, host keys checked, one shared connection per session.

Every call runs with ``BatchMode=yes`` (no password or passphrase prompts) and
``StrictHostKeyChecking=yes`` (an unknown or changed host key is an error, never
accepted). The first call opens a master connection (``ControlMaster=auto``,
``ControlPersist``) in a private folder; later ssh and scp calls ride on it and
:meth:`SshSession.close` ends it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from edgeq import procs
from edgeq.errors import DependencyError, DeviceError, EdgeqError, UsageError
from edgeq.remote.diagnose import connection_failure, ssh_failure, tail
from edgeq.remote.endpoint import Endpoint, SshOptions

logger = logging.getLogger("edgeq.remote")

# Options that always apply; the first value ssh sees wins, so these override ~/.ssh/config.
FIXED_OPTIONS = (
    ("BatchMode", "yes"),
    ("StrictHostKeyChecking", "yes"),
    ("ServerAliveInterval", "15"),
    ("ServerAliveCountMax", "4"),
    ("ForwardAgent", "no"),
    ("ForwardX11", "no"),
    ("ClearAllForwardings", "yes"),
    ("ControlMaster", "auto"),
    ("ControlPersist", "10"),  # a master left by a killed edgeq exits within 10 s
)
_REMOTE_DIR = re.compile(r"/[A-Za-z0-9._/-]+")


class SshSession:
    """A connection to one board: ``with SshSession(endpoint, options) as ssh: ssh.run(["uname", "-m"])``.

    Args:
        endpoint: The board.
        options: Client settings (known_hosts, identity, ssh_config, connect timeout).
    """

    def __init__(self, endpoint: Endpoint, options: SshOptions | None = None) -> None:
        self.endpoint = endpoint
        self.options = options or SshOptions()
        self._control_dir: Path | None = None

    def __enter__(self) -> SshSession:
        base = tempfile.gettempdir()
        # A unix socket path must stay under ~104 bytes.
        self._control_dir = Path(tempfile.mkdtemp(prefix="edgeq-ssh-", dir=base if len(base) < 60 else "/tmp"))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the master connection, if one was opened, and remove its socket folder."""
        if self._control_dir is None:
            return
        if (self._control_dir / "cm").exists():
            cmd = ["ssh", *self.client_args(), "-O", "exit", self.endpoint.host]
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                procs.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        shutil.rmtree(self._control_dir, ignore_errors=True)
        self._control_dir = None

    def client_args(self) -> list[str]:
        """The options given to every ssh and scp call."""
        opts = self.options
        settings = [*FIXED_OPTIONS, ("ConnectTimeout", str(max(1, round(opts.connect_timeout))))]
        if self._control_dir is not None:
            settings.append(("ControlPath", _config_path(self._control_dir / "cm")))
        if self.endpoint.port is not None:
            settings.append(("Port", str(self.endpoint.port)))
        if self.endpoint.user is not None:
            settings.append(("User", self.endpoint.user))
        if opts.known_hosts is not None:
            settings.append(("UserKnownHostsFile", _config_path(opts.known_hosts)))
        args = ["-F", str(opts.config)] if opts.config is not None else []
        if opts.identity is not None:
            args += ["-i", str(opts.identity).replace("%", "%%")]
            settings.append(("IdentitiesOnly", "yes"))
        for key, value in settings:
            args += ["-o", f"{key}={value}"]
        return args

    def run(self, argv: list[str], timeout: float, what: str = "the command") -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the board (through ``sh -c``); returns the finished process whatever its exit code.

        Raises:
            DeviceError: ssh could not connect or log in (exit 255), or ``timeout`` seconds passed.
        """
        inner = " ".join(shlex.quote(a) for a in argv) + "; exit $?"
        cmd = ["ssh", *self.client_args(), "-T", self.endpoint.host, "sh -c " + shlex.quote(inner)]
        done = self._call(cmd, timeout, what)
        if done.returncode == 255:
            raise ssh_failure(self.endpoint, self.options, done.stderr)
        return done

    def put(self, files: list[Path], remote_dir: str, timeout: float = 600.0) -> None:
        """Copy local ``files`` into ``remote_dir`` on the board."""
        target = f"{self.endpoint.scp_host}:{remote_dir}/"
        self._scp([*(str(f) for f in files), target], timeout, "copying files to")

    def get(self, remote_path: str, local_path: Path, timeout: float = 600.0) -> None:
        """Copy ``remote_path`` from the board to ``local_path``."""
        self._scp([f"{self.endpoint.scp_host}:{remote_path}", str(local_path)], timeout, "copying files from")

    def make_temp_dir(self) -> str:
        """Create a private temp folder on the board (``mktemp -d``); returns its absolute path."""
        done = self.run(["mktemp", "-d", "-t", "edgeq.XXXXXXXX"], self._short_timeout, "mktemp")
        path = done.stdout.strip()
        if done.returncode != 0 or not _REMOTE_DIR.fullmatch(path):
            detail = tail(done.stderr) or path or f"exit {done.returncode}"
            raise DeviceError(f"cannot create a temp folder on {self.endpoint.host} (mktemp -d): {detail}")
        logger.debug("temp folder on %s: %s", self.endpoint.host, path)
        return path

    def remove_dir(self, path: str) -> None:
        """Delete ``path`` (a folder from :meth:`make_temp_dir`) on the board; failures are logged, not raised."""
        if not _REMOTE_DIR.fullmatch(path) or path.rstrip("/").count("/") < 2:
            raise UsageError(f"refusing to delete {path!r} on the board: not a temp folder")
        try:
            done = self.run(["rm", "-rf", "--", path], self._short_timeout, "rm")
        except EdgeqError as exc:
            logger.warning("could not remove %s on %s: %s", path, self.endpoint.host, exc)
            return
        if done.returncode != 0:
            logger.warning("could not remove %s on %s: %s", path, self.endpoint.host, tail(done.stderr))

    @property
    def _short_timeout(self) -> float:
        return self.options.connect_timeout + 60.0

    def _scp(self, paths: list[str], timeout: float, verb: str) -> None:
        done = self._call(["scp", "-q", *self.client_args(), *paths], timeout, "scp")
        if done.returncode != 0:
            known = connection_failure(self.endpoint, self.options, done.stderr)
            raise known or DeviceError(f"{verb} {self.endpoint.host} failed (scp): {tail(done.stderr)}")

    def _call(self, cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        logger.debug("running %s", shlex.join(cmd))
        try:
            return procs.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=timeout
            )
        except FileNotFoundError:
            raise DependencyError(
                f"the OpenSSH client ({cmd[0]}) is not installed; sudo apt-get install openssh-client"
            ) from None
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{what} on {self.endpoint.host} did not finish within {timeout:g} s") from None


def _config_path(path: Path) -> str:
    """A path as an ssh_config value: ``%`` escaped, quoted when it holds spaces."""
    text = str(path).replace("%", "%%")
    if '"' in text:
        raise UsageError(f"SSH file path {str(path)!r} contains a double quote; rename it")
    return f'"{text}"' if any(c.isspace() for c in text) else text
