"""Pinned output: speed work on the simulator must not change what a seed generates.

The digests were taken from the generator before the exporter was optimised (commit 4e61178)
and reproduced by the optimised one. Parquet files are compared by their values (read back
with pyarrow), not their bytes, so a pyarrow upgrade that changes the file layout does not
break this test; every other file is compared byte for byte. If a deliberate change to the
generator (or a numpy upgrade that changes its random streams) alters the output, update the
digests in the same commit and say why.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from piguard.simulate.engine import simulate

GOLDEN = {
    "jsonl": "530ca113b9618b5eea4713bc89fe418e3683152c3bdbb1e6e0166c4f2fb4003c",
    "parquet": "190694dadacb5d96c78c4484b65af2ed8367f51cf5d2c5e33ee5a583e8f042a5",
}


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(out.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(out).as_posix().encode())
            if path.suffix == ".parquet":
                rows = pq.read_table(path).to_pylist()
                h.update(json.dumps(rows, default=str, ensure_ascii=False).encode())
            else:
                h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_seed_gives_the_pinned_output(tmp_path: Path, fmt: str) -> None:
    simulate(out=tmp_path / "run", seed=11, days=5, fmt=fmt)
    assert _digest(tmp_path / "run") == GOLDEN[fmt]
