"""Where the project's data directories are: beside the package in a checkout, or in
the working directory (the container's /app)."""

from __future__ import annotations

from pathlib import Path


def project_directory(name: str, marker: str) -> Path:
    """The directory ``name`` that holds ``marker``."""
    for base in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (base / name / marker).exists():
            return base / name
    raise FileNotFoundError(f"cannot find {name}/{marker} beside the service or in {Path.cwd()}")
