"""The data files edgeq ships inside its packages: C kernels, templates, board files.

Each folder belongs to the package that uses it (``edgeq/codegen/engine/kernels``,
``edgeq/firmware/templates``, ``edgeq/boards/files`` ...) and is installed with it as
package data (``[tool.setuptools.package-data]`` in pyproject.toml); it is found
with :mod:`importlib.resources`, never by guessing install paths.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from edgeq.errors import EdgeqError


def package_dir(package: str, name: str) -> Path:
    """The folder ``name`` of the (imported) package ``package``, e.g. ``package_dir("edgeq.boards", "files")``.

    edgeq compiles and copies these files, so they must be real files: an EdgeqError otherwise.
    """
    path = Path(str(files(package) / name))
    if not path.is_dir():
        raise EdgeqError(f"edgeq's {package.replace('.', '/')}/{name} folder is missing ({path}); reinstall edgeq")
    return path
