"""Shared helpers of the PI benchmarks: data paths and the Presidio benchmark venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PI_DATA = Path(os.environ.get("PIGUARD_SHARED_DIR", ROOT.parent / "shared")) / "testdata" / "pi"
# Git-ignored (var/ is in .gitignore); Presidio is never a piguard dependency.
PRESIDIO_VENV = ROOT / "var" / "venv-presidio"


def presidio_python() -> Path:
    """The Presidio venv's python, creating the venv (pip install presidio-analyzer) if needed."""
    py = PRESIDIO_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PRESIDIO_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "presidio-analyzer"], check=True)
    return py


def run_presidio(texts: list[str], *, repeat: int = 1) -> dict[str, Any]:
    """Run Presidio's pattern layer over ``texts`` in its own venv; spans and timing."""
    proc = subprocess.run(
        [str(presidio_python()), str(Path(__file__).with_name("presidio_layer.py"))],
        input=json.dumps({"texts": texts, "repeat": repeat}),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
