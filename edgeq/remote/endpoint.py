"""``ssh://user@host[:port]`` target names and the OpenSSH client settings that go with them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from edgeq.errors import UsageError

ENV_KNOWN_HOSTS = "EDGEQ_SSH_KNOWN_HOSTS"
ENV_IDENTITY = "EDGEQ_SSH_IDENTITY"
ENV_CONFIG = "EDGEQ_SSH_CONFIG"
ENV_PYTHON = "EDGEQ_SSH_PYTHON"

_URL = re.compile(r"ssh://(?:(?P<userinfo>[^@/]*)@)?(?P<host>\[[^\]/]*\]|[^:/\[\]@]*)(?::(?P<port>[^/]*))?/?")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?")
_EXAMPLE = "expected ssh://user@host or ssh://user@host:port, e.g. ssh://pi@raspberrypi.local"


@dataclass(frozen=True)
class Endpoint:
    """Where the board is: ``host``, optional ``user`` and ``port`` (None leaves them to ssh and ~/.ssh/config).

    Raises:
        UsageError: A host, user or port that ssh would misread (e.g. a leading ``-``).
    """

    host: str
    user: str | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        if not (_HOST.fullmatch(self.host) or (":" in self.host and _IPV6.fullmatch(self.host))):
            raise UsageError(f"bad host {self.host!r} in an SSH target; {_EXAMPLE}")
        if self.user is not None and not _USER.fullmatch(self.user):
            raise UsageError(f"bad user name {self.user!r} in an SSH target; {_EXAMPLE}")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise UsageError(f"SSH port {self.port} is out of range; ports are 1-65535")

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """``ssh://user@host[:port]`` (IPv6 hosts in brackets) -> Endpoint.

        Raises:
            UsageError: Anything else, naming the expected form.
        """
        match = _URL.fullmatch(url.strip())
        if match is None or not match["host"]:
            raise UsageError(f"malformed SSH target {url!r}; {_EXAMPLE}")
        userinfo, port = match["userinfo"], match["port"]
        if userinfo is not None and ":" in userinfo:
            raise UsageError(f"SSH target {url!r} has a password; edgeq logs in with keys only: {_EXAMPLE}")
        if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise UsageError(f"SSH target {url!r} has a bad port {port!r} (ports are 1-65535); {_EXAMPLE}")
        host = match["host"].removeprefix("[").removesuffix("]")
        return cls(host, userinfo or None, int(port) if port is not None else None)

    @property
    def destination(self) -> str:
        """``user@host`` (or ``host``), as ssh-copy-id takes it."""
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def known_hosts_name(self) -> str:
        """The host as known_hosts spells it: ``host``, or ``[host]:port`` off port 22."""
        return self.host if self.port in (None, 22) else f"[{self.host}]:{self.port}"

    @property
    def scp_host(self) -> str:
        """The host part of an scp path (IPv6 addresses in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = "" if self.port is None else f":{self.port}"
        return f"ssh://{user}{self.scp_host}{port}"


@dataclass(frozen=True)
class SshOptions:
    """OpenSSH client settings beyond ssh's own defaults and ~/.ssh/config.

    Attributes:
        known_hosts: A known_hosts file used instead of ~/.ssh/known_hosts.
        identity: A private key file; only this key is offered (``IdentitiesOnly``).
        config: An ssh_config file used instead of ~/.ssh/config.
        connect_timeout: Seconds to wait for the board to answer.
    """

    known_hosts: Path | None = None
    identity: Path | None = None
    config: Path | None = None
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        for what, path in (("known_hosts", self.known_hosts), ("identity", self.identity), ("config", self.config)):
            if path is not None and not path.is_file():
                raise UsageError(f"SSH {what} file {str(path)!r} does not exist")
        if not self.connect_timeout > 0:
            raise UsageError(f"SSH connect timeout must be > 0 seconds, got {self.connect_timeout}")

    @classmethod
    def from_env(
        cls,
        known_hosts: str | Path | None = None,
        identity: str | Path | None = None,
        config: str | Path | None = None,
        connect_timeout: float = 10.0,
    ) -> SshOptions:
        """Arguments first, then ``$EDGEQ_SSH_KNOWN_HOSTS``, ``$EDGEQ_SSH_IDENTITY``, ``$EDGEQ_SSH_CONFIG``."""
        return cls(
            _path(known_hosts, ENV_KNOWN_HOSTS),
            _path(identity, ENV_IDENTITY),
            _path(config, ENV_CONFIG),
            float(connect_timeout),
        )

    @property
    def known_hosts_label(self) -> str:
        """The known_hosts file ssh checks, for messages."""
        return str(self.known_hosts) if self.known_hosts else "~/.ssh/known_hosts"


def _path(value: str | Path | None, env: str) -> Path | None:
    value = value or os.environ.get(env) or None
    return None if value is None else Path(value).expanduser()
