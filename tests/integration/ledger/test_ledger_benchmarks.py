"""Every ledger benchmark runs end to end at a tiny size, so the scripts cannot rot unnoticed.

The scripts run in this process (``runpy``, as ``__main__``) to spare interpreter start-ups;
their own assertions (proofs verify, roots match, bundles verify) are part of the check.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"

RUNS = {
    "ledger_append.py": ["--events", "300", "--batch", "100"],
    "ledger_proofs.py": ["--entries", "700", "--samples", "30"],
    "ledger_verify.py": ["--entries", "900", "--checkpoint-every", "100", "--no-cli"],
    "ledger_evidence.py": ["--entries", "800", "--events", "40", "--no-cli"],
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_benchmark_runs_at_tiny_size(
    script: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", [script, *RUNS[script]])
    monkeypatch.chdir(tmp_path)
    code: object = 0
    try:
        runpy.run_path(str(BENCH / script), run_name="__main__")
    except SystemExit as exc:  # the scripts exit non-zero only when a target is missed
        code = exc.code
    out = capsys.readouterr().out
    assert code in (None, 0), out
    assert "Traceback" not in out
    assert "ratio" in out


def test_the_cli_paths_of_the_benchmarks_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``ledger_verify`` times ``piguard audit verify`` in a subprocess: once, at the smallest size."""
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", ["ledger_verify.py", "--entries", "50", "--workdir", str(tmp_path / "log")])
    runpy.run_path(str(BENCH / "ledger_verify.py"), run_name="__main__")
    first = capsys.readouterr().out
    assert "piguard audit verify" in first
    assert " - " not in first.splitlines()[1]  # timed, not skipped
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--no-cli"])
    runpy.run_path(str(BENCH / "ledger_verify.py"), run_name="__main__")  # reuses the kept log
    assert "build=0.0s" in capsys.readouterr().out
