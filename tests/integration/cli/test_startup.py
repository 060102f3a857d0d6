"""``piguard --help`` must not load the database layer, numpy or the detection engines.

Checked in a fresh interpreter (this test process has long since imported all of them), by the
modules loaded rather than by time, so the test does not depend on the machine's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "numpy", "pyarrow", "duckdb", "jieba", "cedarpy")

# Every command group and top-level command, each asked for its help in the same interpreter.
HELP_ARGS = (
    [],
    ["orgs"],
    ["orgs", "add"],
    ["users"],
    ["users", "training"],
    ["audit"],
    ["audit", "witness"],
    ["cases"],
    ["cases", "open"],
    ["family"],
    ["family", "answer"],
    ["inspections"],
    ["training"],
    ["canary"],
    ["export"],
    ["db"],
    ["init"],
    ["serve"],
    ["demo"],
    ["scan"],
    ["redact"],
    ["simulate"],
    ["detect"],
    ["trace"],
    ["evaluate"],
    ["report"],
)


def _heavy_loaded(code: str) -> list[str]:
    """The heavy modules loaded after running ``code`` in a new interpreter (reported on stderr)."""
    report = f"import json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)"
    script = f"{code}\n{report}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _heavy_loaded("import piguard.cli.main") == []


def test_help_of_every_command_loads_no_heavy_module() -> None:
    code = (
        "import contextlib, io\n"
        "from piguard.cli.main import app\n"
        f"for args in {HELP_ARGS!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        app([*args, '--help'], prog_name='piguard')\n"
    )
    assert _heavy_loaded(code) == []
