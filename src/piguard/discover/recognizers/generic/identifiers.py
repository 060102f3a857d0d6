"""Language-neutral identifiers: email, IP, URL, bank card, IBAN, US SSN."""

from __future__ import annotations

import re

from piguard.discover.recognizers.base import (
    ASCII_AFTER,
    ASCII_BEFORE,
    DIGITS_AFTER,
    PatternRecognizer,
    PatternSpec,
)
from piguard.discover.recognizers.validators import (
    cn_resident_id_shape,
    email,
    iban,
    ip_address,
    luhn_ok,
    us_ssn,
)

__all__ = ["card_issuer_prefix_ok", "generic_recognizers"]

_B, _A = ASCII_BEFORE, ASCII_AFTER
# Card numbers may have a label glued before them (CARD6222…: matched in the region's
# ``glue_view``) and, when labelled, letters glued after them (卡号6222…abc): their patterns
# end in _T and ``glued_tail_ok`` decides.
_T = DIGITS_AFTER

CARD_CONTEXT = (
    "银行卡",
    "卡号",
    "账号",
    "帐号",
    "储蓄卡",
    "信用卡",
    "借记卡",
    "开户",
    "card",
    "visa",
    "mastercard",
    "amex",
    "account",
    "credit",
    "debit",
    # An expiry date or a security code written after the number is only ever a card's.
    "有效期",
    "安全码",
    "cvv",
    "cvc",
    "valid thru",
)
# Words about a card itself, for 12-digit Maestro numbers ("account" is too often a bank
# account number of the same length). " cc " is the abbreviation, not "acc"/"cc:" of mail.
MAESTRO_CONTEXT = (
    "card",
    "maestro",
    "credit",
    "debit",
    " cc ",
    " cc#",
    "卡号",
    "银行卡",
    "借记卡",
    "储蓄卡",
    "信用卡",
)
SSN_CONTEXT = ("ssn", "social security", "social-security", "ss#")
IBAN_CONTEXT = ("iban", "bank", "account", "账户", "汇款")
IP_NEGATIVE = ("version", "ver.", "版本", "build", "release")
# Labels of order, waybill and tracking numbers: 16-19 digits of which 1 in 10 passes Luhn.
CARD_NEGATIVE = ("订单", "运单", "快递", "单号", "物流", "order", "waybill", "tracking", "shipment")

# Issuer prefixes (IIN) of the card schemes: UnionPay 62/81, Visa 4, Mastercard 51-55 and
# 2221-2720, Maestro 50/56-58/6x, Amex 34/37, JCB 35 (and legacy 15-digit 2131/1800), Diners
# 30/36/38, Discover 6011/64/65, RuPay 60; 9 for domestic debit schemes.
_IIN = re.compile(r"^(?:62|81|4|5[0-8]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[0-9]|6|9|2131|1800)")


_MASTERCARD = re.compile(r"^(?:5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))")
_NON_DIGIT = re.compile(r"\D")


def card_issuer_prefix_ok(digits: str) -> bool:
    """Whether the leading digits of a card number are a card scheme's issuer prefix (IIN)."""
    return _IIN.match(digits) is not None


def _card(value: str) -> str | None:
    # Cheapest tests first: most candidates are order numbers that fail the issuer prefix
    # or the length rules before Luhn is computed.
    digits = value if value.isdigit() else _NON_DIGIT.sub("", value)
    n = len(digits)
    if not 13 <= n <= 19 or _IIN.match(digits) is None:
        return None
    if n == 15 and not digits.startswith(("34", "37", "2131", "1800")):
        return None  # only Amex and legacy JCB use 15 digits
    if n == 14 and not digits.startswith(("30", "36", "38")):
        return None  # only Diners Club uses 14 digits
    if n == 13 and not digits.startswith("4"):
        return None  # only old Visa cards use 13 digits
    if digits[0] == "4" and n not in (13, 16, 19):
        return None  # Visa: 13, 16 or 19 digits
    if n != 16 and _MASTERCARD.match(digits) is not None:
        return None  # Mastercard (51-55, 2221-2720): 16 digits only
    if n != 15 and digits.startswith(("34", "37")):
        return None  # American Express: 15 digits only
    if not luhn_ok(digits) or len(set(digits)) == 1:
        return None
    if n == 18 and cn_resident_id_shape(digits):
        return None  # an 18-digit number shaped like a resident ID is a mistyped ID
    return "Luhn + issuer prefix"


# Maestro is the one scheme that issues 12-digit cards; its IIN ranges are 50, 56-58 and 6x.
_MAESTRO_12 = re.compile(r"^(?:5[06-8]|6\d)\d{10}$")


def _maestro_12(value: str) -> str | None:
    digits = _NON_DIGIT.sub("", value)
    if _MAESTRO_12.match(digits) is None or not luhn_ok(digits) or len(set(digits)) == 1:
        return None
    return "Luhn + Maestro 12-digit prefix"


def _url(value: str) -> str | None:
    host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", value).split("/", 1)[0].split(":", 1)[0]
    if host.startswith("www."):
        host = host[4:]
    if "." not in host or not re.search(r"\.[A-Za-z]{2,24}$|^\d{1,3}(?:\.\d{1,3}){3}$", host):
        return None
    return "scheme/host form"


def generic_recognizers() -> list[PatternRecognizer]:
    """The generic identifier recognizers, freshly built."""
    return [
        PatternRecognizer(
            name="email",
            in_digit_runs=False,
            gate=lambda r: "@" in r.text,
            entity="EMAIL",
            # ASCII-only local part and domain: never extended into neighbouring CJK text.
            patterns=[
                PatternSpec(
                    "email",
                    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*"
                    r"\.[A-Za-z]{2,24}" + _A,
                    0.95,
                )
            ],
            validator=email,
            context=("邮箱", "email", "e-mail", "mail"),
            context_score=0.99,
            required_chars="@",
        ),
        PatternRecognizer(
            name="ip_address",
            in_digit_runs=False,
            gate=lambda r: r.text.count(".") >= 3 or r.text.count(":") >= 2,
            entity="IP_ADDRESS",
            patterns=[
                PatternSpec(
                    "ipv4",
                    # The label may be glued on ("登录IP10.2.3.4"); other letters may not (v1.2.3.4).
                    r"(?:(?<![0-9A-Za-z.])|(?<=IP)|(?<=ip))"
                    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9A-Za-z]|\.\d)",
                    0.85,
                ),
                PatternSpec(
                    "ipv6",
                    r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})"
                    r"(?:[0-9A-Fa-f]{0,4}:?)*(?![0-9A-Za-z:])",
                    0.8,
                ),
            ],
            validator=ip_address,
            context=("ip", "地址", "address", "client", "host", "登录"),
            context_score=0.95,
            negative_context=IP_NEGATIVE,
            required_chars=".:",
        ),
        PatternRecognizer(
            name="url",
            in_digit_runs=False,
            entity="URL",
            patterns=[
                PatternSpec(
                    "url_scheme",
                    r"(?<![A-Za-z0-9])(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+"
                    r"(?<![.,;:!?'])",
                    0.85,
                ),
                PatternSpec(
                    "url_www",
                    r"(?<![A-Za-z0-9./@])www\.[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
                    r"(?:/[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*)?(?<![.,;:!?'])",
                    0.75,
                ),
            ],
            validator=_url,
            validator_name="url",
            required_any=("://", "www."),
        ),
        PatternRecognizer(
            name="bank_card",
            gate=lambda r: 12 <= r.digits <= 19,
            entity="BANK_CARD",
            patterns=[
                PatternSpec("card_13_19", _B + r"[1-9]\d{12,18}" + _T, 0.6),
                PatternSpec("card_diners", _B + r"3[068]\d{2}[ \-]\d{6}[ \-]\d{4}" + _T, 0.75),
                PatternSpec("card_grouped", _B + r"[1-9]\d{3}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,3})?" + _T, 0.75),
                PatternSpec("card_amex", _B + r"3[47]\d{2}[ \-]\d{6}[ \-]\d{5}" + _T, 0.75),
            ],
            validator=_card,
            validator_name="luhn",
            context=CARD_CONTEXT,
            context_score=0.95,
            negative_context=CARD_NEGATIVE,
            context_beats_negative=True,
            required_chars="0123456789",
            glued_tail=True,
        ),
        PatternRecognizer(
            # Twelve digits pass Luhn with a Maestro prefix once in ~25 random numbers, so
            # only a card word nearby makes one a card (base score under the reporting bar).
            name="bank_card_maestro_12",
            gate=lambda r: r.digits == 12,
            entity="BANK_CARD",
            patterns=[
                PatternSpec("maestro_12", _B + r"(?:5[06-8]|6\d)\d{10}" + _A, 0.3),
                PatternSpec("maestro_12_grouped", _B + r"(?:5[06-8]|6\d)\d{2}(?:[ \-]\d{4}){2}" + _A, 0.3),
            ],
            validator=_maestro_12,
            validator_name="luhn",
            context=MAESTRO_CONTEXT,
            context_score=0.9,
            min_score=0.5,
            required_chars="0123456789",
        ),
        PatternRecognizer(
            name="iban",
            in_digit_runs=False,
            gate=lambda r: len(r.text) >= 15 and r.text[:2].isupper(),
            entity="IBAN",
            patterns=[
                PatternSpec("iban_compact", _B + r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}" + _A, 0.9),
                PatternSpec("iban_grouped", _B + r"[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?" + _A, 0.9),
            ],
            validator=iban,
            context=IBAN_CONTEXT,
            context_score=0.99,
        ),
        PatternRecognizer(
            # Typed in lower case ("my iban is de89..."): the same mod-97 check, but lower-case
            # letter-digit tokens (hashes, ids) are common, so only with a bank word nearby.
            name="iban_lower",
            in_digit_runs=False,
            gate=lambda r: len(r.text) >= 15 and r.text[:2].islower(),
            entity="IBAN",
            # Compact only: identifier regions do not continue across a space before a
            # lower-case letter, so "de89 3704 ..." is not one region.
            patterns=[PatternSpec("iban_lower", _B + r"[a-z]{2}\d{2}[a-z0-9]{11,30}" + _A, 0.3)],
            validator=iban,
            context=IBAN_CONTEXT,
            context_score=0.95,
            min_score=0.5,
        ),
        PatternRecognizer(
            name="us_ssn",
            gate=lambda r: r.digits == 9,
            entity="US_SSN",
            patterns=[
                PatternSpec("ssn_dashed", _B + r"\d{3}-\d{2}-\d{4}" + _T, 0.75),
                PatternSpec("ssn_spaced", _B + r"\d{3} \d{2} \d{4}" + _T, 0.5),
                PatternSpec("ssn_compact", _B + r"\d{9}" + _T, 0.2),
            ],
            validator=us_ssn,
            context=SSN_CONTEXT,
            context_score=0.95,
            min_score=0.55,
            required_chars="0123456789",
            # SSN536221234: the label glued before the number (see ``glue_view``).
            glued_tail=True,
        ),
    ]
