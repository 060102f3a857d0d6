"""Files the ``piguard`` command writes are readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def test_the_command_writes_private_files_under_a_permissive_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PIGUARD_DATA_DIR": str(data)}
    env.pop("PIGUARD_DATABASE_URL", None)
    out = tmp_path / "events.jsonl"

    def piguard(*args: str) -> None:
        # umask 022 is what most shells hand a process: files would be world-readable.
        done = subprocess.run(
            [sys.executable, "-m", "piguard", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert done.returncode == 0, done.stderr

    piguard("init")
    piguard("audit", "export", "--out", str(out))
    for path in (data / "piguard.db", out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
