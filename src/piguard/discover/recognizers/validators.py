"""Pure validators of identifiers, by name (custom YAML rules refer to them by these names).

Each validator takes the matched text and returns a short reason ("checksum GB 11643") when it
accepts, or None when it rejects. Reasons never contain the value.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import time
from collections.abc import Callable
from functools import cache
from importlib import resources

import phonenumbers
from stdnum import iban as std_iban
from stdnum.cn import uscc as std_uscc

from piguard import resident_id

__all__ = [
    "VALIDATORS",
    "area_codes",
    "cn_area_code_ok",
    "cn_landline",
    "cn_mobile",
    "cn_mobile_prefix_ok",
    "cn_resident_id",
    "cn_resident_id_shape",
    "email",
    "iban",
    "ip_address",
    "luhn",
    "luhn_ok",
    "mod11_2_check",
    "plausible_birth_date",
    "us_ssn",
    "uscc",
]

_DIGITS_ONLY = re.compile(r"[\s\-.()]")
# Oldest living cohort plus the 1984-85 first issue to people born in the 19th century.
_MIN_BIRTH = dt.date(1880, 1, 1)


@cache
def area_codes() -> frozenset[str]:
    """Every GB/T 2260 county-level code valid at any time since 1980 (shipped data)."""
    text = resources.files("piguard.discover.recognizers.data").joinpath("gbt2260.txt")
    return frozenset(line[:6] for line in text.read_text(encoding="utf-8").splitlines() if line)


def _compact(value: str) -> str:
    return _DIGITS_ONLY.sub("", value)


def mod11_2_check(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID."""
    return resident_id.check_character(first17)


_today_cache: list[tuple[float, dt.date]] = []


def _today() -> dt.date:
    # date.today() is a system call; scanning calls this per candidate, so refresh hourly.
    now = time.monotonic()
    if not _today_cache or now - _today_cache[0][0] > 3600:
        _today_cache[:] = [(now, dt.date.today())]
    return _today_cache[0][1]


def plausible_birth_date(yyyymmdd: str, *, today: dt.date | None = None) -> bool:
    """Whether ``yyyymmdd`` is a real calendar date between 1880 and today."""
    born = resident_id.parse_yyyymmdd(yyyymmdd)
    return born is not None and _MIN_BIRTH <= born <= (today or _today())


def _area_ok(code6: str) -> bool:
    codes = area_codes()
    if code6 in codes:
        return True
    # Some IDs were issued with a prefecture-level code ("xx01xx" city districts or "xxxx00")
    # that the tables list only at the prefecture level.
    return code6[:4] + "00" in codes and code6[4:] in ("00", "01")


def cn_area_code_ok(code6: str) -> bool:
    """Whether six digits are a GB/T 2260 area code valid at any time since 1980 (an ID's start)."""
    return len(code6) == 6 and _area_ok(code6)


def cn_resident_id_shape(digits: str) -> bool:
    """Whether 18 digits have a resident ID's area code and birth date (check digit aside)."""
    return _area_ok(digits[:6]) and plausible_birth_date(digits[6:14])


def cn_resident_id(value: str) -> str | None:
    """GB 11643 resident ID: 18-digit (MOD 11-2, area, date) or 15-digit legacy (area, date)."""
    v = value.strip().upper().replace(" ", "").replace("-", "")  # also written 6-8-4: 110105 19491231 002X
    if len(v) == 18 and v[:17].isdigit() and (v[17].isdigit() or v[17] == "X"):
        if mod11_2_check(v[:17]) != v[17]:
            return None
        if not _area_ok(v[:6]) or not plausible_birth_date(v[6:14]):
            return None
        return "checksum GB 11643 + GB/T 2260 area + birth date"
    if len(v) == 15 and v.isdigit():
        # 15-digit IDs were issued 1984-1999 to people born in 19YY.
        if not _area_ok(v[:6]) or not plausible_birth_date("19" + v[6:12]):
            return None
        return "legacy 15-digit: GB/T 2260 area + birth date"
    return None


_LUHN_DOUBLE = {str(d): (2 * d - 9 if d > 4 else 2 * d) for d in range(10)}


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn (mod 10) check."""
    total = sum(map(int, digits[-1::-2])) + sum(map(_LUHN_DOUBLE.__getitem__, digits[-2::-2]))
    return total % 10 == 0


def luhn(value: str) -> str | None:
    """Payment card number: 13-19 digits passing Luhn."""
    digits = _compact(value)
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return None
    if len(set(digits)) == 1:
        return None
    return "Luhn"


def uscc(value: str) -> str | None:
    """GB 32100 unified social credit code (MOD-31 check) via python-stdnum."""
    # Characters 3-8 are the registering authority's GB/T 2260 area code: a cheap first test
    # that rejects almost every random 18-digit number before the slower full check.
    if len(value) != 18 or value[2:8] not in area_codes():
        return None
    return "checksum GB 32100 MOD-31" if std_uscc.is_valid(value) else None


def iban(value: str) -> str | None:
    """IBAN with ISO 7064 mod-97 check and country format via python-stdnum."""
    return "mod-97 + country format" if std_iban.is_valid(value) else None


# Mainland mobile prefixes allocated by MIIT (incl. IoT-free personal 16x/17x/19x ranges).
_MOBILE_PREFIXES = frozenset(
    [f"13{d}" for d in range(10)]
    + ["145", "146", "147", "148", "149"]
    + [f"15{d}" for d in range(10) if d != 4]
    + ["162", "165", "166", "167"]
    + ["170", "171", "172", "173", "174", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)


def cn_mobile_prefix_ok(prefix3: str) -> bool:
    """Whether three digits are an allocated mainland mobile prefix (138, 199...)."""
    return prefix3 in _MOBILE_PREFIXES


def cn_mobile(value: str) -> str | None:
    """Mainland mobile: 11 digits (optionally +86/86/0086) with an allocated 3-digit prefix."""
    digits = _compact(value).lstrip("+")
    for cc in ("0086", "86"):
        if len(digits) == 11 + len(cc) and digits.startswith(cc):
            digits = digits[len(cc) :]
            break
    if len(digits) != 11 or not digits.isdigit() or digits[:3] not in _MOBILE_PREFIXES:
        return None
    return "allocated prefix " + digits[:3]


def cn_landline(value: str) -> str | None:
    """Mainland fixed line with area code, valid for phonenumbers region CN (an extension allowed)."""
    found = _cn_fixed_line(value)
    extension = _EXTENSION.search(value)
    if found is None and extension is not None:
        found = _cn_fixed_line(value[: extension.start()])  # 021-55550123-8001: the switchboard's
    return found


_EXTENSION = re.compile(r"-\d{1,5}$")


def _cn_fixed_line(value: str) -> str | None:
    try:
        num = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if num.country_code != 86 or not phonenumbers.is_valid_number(num):
        return None
    kind = phonenumbers.number_type(num)
    if kind not in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return "phonenumbers CN fixed line"


def us_ssn(value: str) -> str | None:
    """US SSN: area not 000/666/9xx, group not 00, serial not 0000, not all one digit."""
    digits = _compact(value)
    if len(digits) != 9 or not digits.isdigit():
        return None
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    if len(set(digits)) == 1 or digits in ("123456789", "078051120", "219099999"):
        return None
    return "SSA area/group/serial rules"


def ip_address(value: str) -> str | None:
    """An IPv4 or IPv6 address that parses."""
    if _IPV4.fullmatch(value):
        return "IPv4 octets"
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    return f"IPv{addr.version} parses"


_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
_TLD = re.compile(r"\.[A-Za-z]{2,24}$")


def email(value: str) -> str | None:
    """RFC 5322 addr-spec subset with a plausible top-level domain."""
    local, _, domain = value.rpartition("@")
    if not local or not domain or ".." in value or not _TLD.search(domain):
        return None
    if domain.startswith((".", "-")) or local.startswith(".") or local.endswith("."):
        return None
    return "addr-spec + TLD"


VALIDATORS: dict[str, Callable[[str], str | None]] = {
    "cn_resident_id": cn_resident_id,
    "luhn": luhn,
    "uscc": uscc,
    "iban": iban,
    "cn_mobile": cn_mobile,
    "cn_landline": cn_landline,
    "us_ssn": us_ssn,
    "ip_address": ip_address,
    "email": email,
}
