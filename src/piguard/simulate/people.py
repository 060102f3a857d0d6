"""Synthetic identities: names, resident ID numbers, mobile numbers, compounds and addresses.

Everything is drawn from a seeded ``numpy.random.Generator``. Numbers are valid in form
(GB 11643 check digit, allocated mobile segments) but composed at random, never taken from or
matched against any list of real people; see docs/simulator.md for what that does and does not
guarantee.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from piguard.simulate import data

_SURNAMES = [name for name, _ in data.SURNAMES]
_SURNAME_P = np.array([share for _, share in data.SURNAMES])
_SURNAME_P = _SURNAME_P / _SURNAME_P.sum()
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def surnames(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` surnames drawn by their published population shares."""
    return [_SURNAMES[i] for i in rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P)]


def given_name(rng: np.random.Generator, *, male: bool) -> str:
    """A one- or two-character given name."""
    chars = data.GIVEN_CHARS_MALE if male else data.GIVEN_CHARS_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return "".join(chars[int(i)] for i in rng.integers(0, len(chars), size=length))


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 (ISO 7064 MOD 11-2) check character of a 17-digit prefix."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id(rng: np.random.Generator, *, adcode: str, birth: date, male: bool) -> str:
    """An 18-character resident ID number valid in form (area, birth date, sex parity, check)."""
    seq = int(rng.integers(0, 500)) * 2 + (1 if male else 0)
    return resident_id_from(adcode=adcode, birth=birth, sequence=seq)


def area_code_at(adcode: str, year: int) -> str:
    """The area code a person of ``adcode`` born in ``year`` carries (predecessor if needed)."""
    legacy = data.LEGACY_AREAS.get(adcode)
    if legacy is None or year >= legacy[0]:
        return adcode
    return legacy[1] if year >= legacy[2] else legacy[3]


def resident_id_from(*, adcode: str, birth: date, sequence: int) -> str:
    """The resident ID number for a district, birth date and 3-digit sequence (odd = male)."""
    first17 = f"{area_code_at(adcode, birth.year)}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


def mobile(rng: np.random.Generator) -> str:
    """An 11-digit mobile number in an allocated segment."""
    prefix = data.MOBILE_PREFIXES[int(rng.integers(0, len(data.MOBILE_PREFIXES)))]
    return f"{prefix}{int(rng.integers(0, 10**8)):08d}"


def compounds(rng: np.random.Generator, *, district: str, district_name: str, n: int) -> list[str]:
    """``n`` distinct residential compound names for one district (ids keep them unique)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        first = data.COMPOUND_FIRST
        name = (
            first[int(rng.integers(0, len(first)))]
            + first[int(rng.integers(0, len(first)))]
            + data.COMPOUND_SECOND[int(rng.integers(0, len(data.COMPOUND_SECOND)))]
            + data.COMPOUND_SUFFIX[int(rng.integers(0, len(data.COMPOUND_SUFFIX)))]
        )
        if name in seen:
            name = f"{name}{len(out) + 1}期"
        seen.add(name)
        out.append(f"{district}-{name}")
    del district_name
    return out


def compound_label(compound_id: str) -> str:
    """The display part of a compound id (``310112-春华苑`` -> ``春华苑``)."""
    return compound_id.split("-", 1)[1]


def address(rng: np.random.Generator, *, district_name: str, compound_id: str) -> str:
    """A street address inside a compound."""
    street = data.STREETS[int(rng.integers(0, len(data.STREETS)))]
    number = int(rng.integers(1, 2000))
    building = int(rng.integers(1, 40))
    room = int(rng.integers(1, 30)) * 100 + int(rng.integers(1, 6))
    return f"上海市{district_name}{street}{number}弄{compound_label(compound_id)}{building}号{room}室"


def pick(rng: np.random.Generator, table: tuple[tuple[str, float], ...]) -> str:
    """One label from a (label, share) table."""
    p = np.array([share for _, share in table])
    return table[int(rng.choice(len(table), p=p / p.sum()))][0]


def full_names(rng: np.random.Generator, male: np.ndarray) -> tuple[list[str], list[str]]:
    """Vectorised (surname, full name) for people of the given sexes."""
    n = len(male)
    family = surnames(rng, n)
    lengths = np.where(rng.random(n) < 0.3, 1, 2)
    m_idx = rng.integers(0, len(data.GIVEN_CHARS_MALE), size=(n, 2))
    f_idx = rng.integers(0, len(data.GIVEN_CHARS_FEMALE), size=(n, 2))
    names: list[str] = []
    for i in range(n):
        chars = data.GIVEN_CHARS_MALE if male[i] else data.GIVEN_CHARS_FEMALE
        idx = m_idx[i] if male[i] else f_idx[i]
        names.append(family[i] + "".join(chars[int(k)] for k in idx[: lengths[i]]))
    return family, names


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """Vectorised ``mobile``."""
    prefixes = rng.integers(0, len(data.MOBILE_PREFIXES), size=n)
    numbers = rng.integers(0, 10**8, size=n)
    return [f"{data.MOBILE_PREFIXES[p]}{k:08d}" for p, k in zip(prefixes, numbers, strict=True)]


def addresses(
    rng: np.random.Generator, *, district_names: list[str], compound_ids: list[str]
) -> list[str]:
    """Vectorised ``address``."""
    n = len(compound_ids)
    streets = rng.integers(0, len(data.STREETS), size=n)
    numbers = rng.integers(1, 2000, size=n)
    buildings = rng.integers(1, 40, size=n)
    rooms = rng.integers(1, 30, size=n) * 100 + rng.integers(1, 6, size=n)
    return [
        f"上海市{district_names[i]}{data.STREETS[streets[i]]}{numbers[i]}弄"
        f"{compound_label(compound_ids[i])}{buildings[i]}号{rooms[i]}室"
        for i in range(n)
    ]
