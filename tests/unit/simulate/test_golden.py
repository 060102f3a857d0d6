"""Pinned output: speed work on the simulator must not change what a seed generates.

The digests were taken from the generator before the exporter was optimised (commit 4e61178)
and reproduced by the optimised one. Parquet files are compared by their values (read back
with pyarrow), not their bytes, so a pyarrow upgrade that changes the file layout does not
break this test; every other file is compared byte for byte. If a deliberate change to the
generator (or a numpy upgrade that changes its random streams) alters the output, update the
digests in the same commit and say why. Changed on 2026-11-29: insider scenarios pick "another
institution's" records by the certifier's hospital (the report's institution), not the place of
death, so their victims differ. Changed again (issue 6 audit): a broker's search and a bulk export
list the canaries that match their filter like any other record (they are indistinguishable on
screen); in this run one broker search lists 19 records instead of 18, nothing else differs.
Changed again (outside audit of issue 5): stays admitted before the period keep their team,
reports are read only after they are created (by legitimate users; the report's creation time
is fixed before the scenarios run), death work and certifiers follow rosters and
carry their shift's login session, subject ids follow the time of death (canaries included),
living stays list distinct team members, dispatcher rotas cover every phase, the manifest lists
scenarios without labels; nearly every event changes. Changed again (issue 6, 2026-11-29):
searches, exports and insiders' reads find only reports that exist (a broker's 6-hour search,
the bulk export's week and the coders' daily search used to list deaths whose report was still
unwritten); listings are shorter and the insiders' victims differ.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from piguard.simulate.engine import simulate

GOLDEN = {
    "jsonl": "7598cd81b0b85a358a7ae93b368482c95644b1a2029763530f312a3c4f83ba17",
    "parquet": "675f6054b1d1e926f317fc025fa402a04dae1ae97ff0eb350ffbfb9f25cfd3db",
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
