"""Streaming writers of the large context tables: subjects, relationships, shifts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from piguard.interchange.context import COLUMNS
from piguard.interchange.tabular import BatchWriter
from piguard.simulate import data
from piguard.simulate.calls import DayCalls
from piguard.simulate.columns import CALLER_BASE
from piguard.simulate.export import _cached, _coded, _dict, render_subjects, rfc3339
from piguard.simulate.workflows import RELATIONSHIP_KINDS, Deaths, Rel
from piguard.simulate.world import World

_SURNAMES = tuple(name for name, _ in data.SURNAMES)
_SURNAME_P = np.array([share for _, share in data.SURNAMES]) / sum(s for _, s in data.SURNAMES)


class ContextWriters:
    """Open writers for subjects, relationships and shifts (``counts`` holds rows written)."""

    def __init__(self, directory: Path, ext: str, w: World, *, text_times: bool) -> None:
        self.w = w
        self.text = text_times
        time_type = pa.string() if text_times else pa.timestamp("s", tz="+08:00")
        dict_str = pa.dictionary(pa.int32(), pa.string())
        types: dict[str, pa.DataType] = {
            "subject_id": dict_str,
            "user_id": dict_str,
            "district": dict_str,
            "compound": dict_str,
            "surname": dict_str,
            "kind": dict_str,
            "is_canary": pa.int8(),
        }
        self.schemas = {
            table: pa.schema([(c, types.get(c, time_type)) for c in COLUMNS[table]])
            for table in ("subjects", "relationships", "shifts")
        }
        self.writers = {
            table: BatchWriter(directory / f"{table}.{ext}", schema) for table, schema in self.schemas.items()
        }
        self.compounds = [c for dist in w.city.districts for c in dist.compounds]
        self.compound_start = np.cumsum([0] + [len(x.compounds) for x in w.city.districts])
        self.districts = [x.adcode for x in w.city.districts]
        # Arrow dictionaries converted once, not per batch.
        self.staff_ids = _cached(w, "staff_ids", w.staff_ids)
        self.district_names = pa.array(self.districts, pa.string())
        self.compound_names = pa.array(self.compounds, pa.string())
        self.vehicle_district = np.array([self.districts.index(v.district) for v in w.city.vehicles], np.int64)
        self.counts: dict[str, int] = {}

    def __enter__(self) -> ContextWriters:
        return self

    def __exit__(self, *exc: object) -> None:
        for table, writer in self.writers.items():
            writer.close()
            self.counts[table] = writer.count

    def _time(self, t: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
        if self.text:
            array = rfc3339(self.w, np.where(t < -(10**12), 0, t))
        else:
            epoch = int(self.w.city.start.timestamp())
            array = pa.array(t + epoch, pa.int64()).cast(pa.timestamp("s", tz="+08:00"))
        if null is not None and null.any():
            import pyarrow.compute as pc

            array = pc.if_else(pa.array(null), pa.nulls(len(t), array.type), array)
        return array

    def _write(self, table: str, columns: dict[str, Any]) -> None:
        schema = self.schemas[table]
        self.writers[table].write(pa.RecordBatch.from_arrays([columns[name] for name in schema.names], schema=schema))

    def deaths(self, d: Deaths) -> None:
        """Every death of the city (canaries flagged)."""
        deaths = self.w.city.deaths
        n = len(deaths)
        if not n:
            return
        district = np.array([self.districts.index(x.district) for x in deaths])
        index = {c: k for k, c in enumerate(self.compounds)}
        self._write(
            "subjects",
            {
                "subject_id": _dict(np.arange(n), self.w.death_ids),
                "death_time": self._time(d.t),
                "district": _dict(district, self.district_names),
                "compound": _dict(np.array([index[x.compound] for x in deaths]), self.compounds),
                "surname": _dict(np.array([_SURNAMES.index(x.surname) for x in deaths]), _SURNAMES),
                "is_canary": pa.array(d.canary.astype(np.int8)),
            },
        )

    def _living(self, subj: np.ndarray, district: np.ndarray, rng: np.random.Generator) -> None:
        n = len(subj)
        if not n:
            return
        low = self.compound_start[district]
        width = self.compound_start[district + 1] - low
        compound = low + rng.integers(0, 1 << 30, n) % width
        self._write(
            "subjects",
            {
                "subject_id": _coded(subj, lambda s: render_subjects(self.w, s)),
                "death_time": self._time(np.zeros(n, np.int64), np.ones(n, bool)),
                "district": _dict(district, self.district_names),
                "compound": _dict(compound, self.compound_names),
                "surname": _dict(rng.choice(len(_SURNAMES), n, p=_SURNAME_P), _SURNAMES),
                "is_canary": pa.array(np.zeros(n, np.int8)),
            },
        )

    def living(self, subj: np.ndarray, district: np.ndarray, rng: np.random.Generator) -> None:
        """Living inpatients whose stays began."""
        self._living(subj, district, rng)

    def callers(self, calls: DayCalls, rng: np.random.Generator) -> None:
        """Living patients of the day's non-fatal calls."""
        k = np.arange(len(calls))
        self._living(
            CALLER_BASE + calls.day * 100_000 + k, self.vehicle_district[calls.vehicle] if len(calls) else k, rng
        )

    def relationships(self, rel: Rel) -> None:
        """Relationship rows."""
        if not len(rel.user):
            return
        self._write(
            "relationships",
            {
                "user_id": _dict(rel.user, self.staff_ids),
                "subject_id": _coded(rel.subj, lambda s: render_subjects(self.w, s)),
                "kind": _dict(rel.kind, RELATIONSHIP_KINDS),
                "valid_from": self._time(rel.start),
                "valid_to": self._time(rel.end, rel.end < 0),
            },
        )

    def shifts(self, users: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Worked shifts."""
        if not len(users):
            return
        self._write(
            "shifts",
            {
                "user_id": _dict(users, self.staff_ids),
                "start": self._time(start),
                "end": self._time(end),
            },
        )
