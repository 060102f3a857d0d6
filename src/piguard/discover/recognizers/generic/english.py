"""English PERSON (census name lists + honorifics) and street ADDRESS (US/UK-style grammar)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context

__all__ = ["EnglishAddressRecognizer", "EnglishPersonRecognizer"]


@cache
def _names(kind: str) -> frozenset[str]:
    data = resources.files("piguard.discover.recognizers.data").joinpath(f"en_{kind}_names.txt")
    return frozenset(line for line in data.read_text(encoding="utf-8").splitlines() if line)


_CAP = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_HONORIFIC = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?\s+(?P<v>" + _CAP
    + r"(?:\s+[A-Z]\.)?(?:\s+" + _CAP + r")?)"
)
_RUN = re.compile(r"(?<![A-Za-z])" + _CAP + r"(?:\s+(?:[A-Z]\.\s+)?" + _CAP + r")+(?![A-Za-z])")
_WORD = re.compile(_CAP + r"|[A-Z]\.")
PERSON_CONTEXT = ("name", "patient", "deceased", "contact", "next of kin", "spouse", "dear",
                  "signed", "by", "from", "attn")
# Capitalised words that are also common first names but mostly start sentences or places.
_COMMON = frozenset({"May", "June", "April", "August", "Will", "Mark", "Grace", "Hope", "Joy",
                     "Faith", "Page", "Street", "Avenue", "Road", "Paris", "Austin", "Virginia",
                     "Georgia", "Carolina", "Florence", "Jordan", "Chase", "Bill", "Art", "Sun"})


class EnglishPersonRecognizer(Recognizer):
    """English names: honorific + capitalised name, or census first name + capitalised surname."""

    name = "en_person"
    entities = ("PERSON",)

    def prefilter(self, text: str) -> bool:
        """Needs an upper-case ASCII letter."""
        return re.search(r"[A-Z][a-z]", text) is not None

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Names scored by which lists and cues agree."""
        if "PERSON" not in entities:
            return []
        first, last = _names("first"), _names("last")
        out: list[Finding] = []
        for m in _HONORIFIC.finditer(text):
            out.append(Finding("PERSON", m.start("v"), m.end("v"), 0.85,
                               "pattern honorific + capitalised name", self.name))
        for run in _RUN.finditer(text):
            words = [(w.group(), run.start() + w.start(), run.start() + w.end())
                     for w in _WORD.finditer(run.group())]
            i = 0
            while i < len(words) - 1:
                given = words[i][0]
                j = i + 2 if words[i + 1][0].endswith(".") and i + 2 < len(words) else i + 1
                family = words[j][0]
                if given not in first or (given in _COMMON and family not in last):
                    i += 1
                    continue
                start, end = words[i][1], words[j][2]
                if family in last:
                    score, why = 0.8, "census first + last name"
                else:
                    score, why = 0.6, "census first name + capitalised word"
                word = find_context(text, start, end, PERSON_CONTEXT, before=16, after=0)
                if word is not None:
                    score = min(0.95, score + 0.1)
                    why += f"; context {word}"
                out.append(Finding("PERSON", start, end, score, why, self.name))
                i = j + 1
        return out

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """PERSON when the whole value is a first + last name."""
        words = value.split()
        if 2 <= len(words) <= 3 and words[0] in _names("first") and words[-1] in _names("last"):
            return [("PERSON", 0.7)]
        return []


_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Close|Row|"
    "Gardens|Grove|Hill|Park|Plaza|Loop|Pike|Alley|Route|Walk|View|Ridge|Point|Crossing|Path"
)
_EN_ADDRESS = re.compile(
    r"(?<![\w])\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\.?\s+){1,4}"
    r"(?:" + _STREET_TYPES + r")\.?(?![a-z])"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?[\w-]{1,6})?"
    r"(?:,?\s*\n?\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?"
    r"(?:,?\s*\n?\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?"
)
ADDRESS_CONTEXT = ("address", "lives at", "live at", "located at", "resides", "residence",
                   "home", "mail to", "ship to")


class EnglishAddressRecognizer(Recognizer):
    """English street addresses: number, street name and type, unit, city, state, ZIP."""

    name = "en_address"
    entities = ("ADDRESS",)

    def prefilter(self, text: str) -> bool:
        """Needs a digit followed later by an upper-case letter."""
        return re.search(r"\d\s+[A-Z]", text) is not None

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Street addresses (number + capitalised street name + street type)."""
        if "ADDRESS" not in entities:
            return []
        out: list[Finding] = []
        for m in _EN_ADDRESS.finditer(text):
            end = m.end()
            while end > m.start() and text[end - 1] in " \n,":
                end -= 1
            score, why = 0.75, "grammar number + street + type"
            word = find_context(text, m.start(), end, ADDRESS_CONTEXT, before=20, after=0)
            if word is not None:
                score, why = 0.9, why + f"; context {word}"
            out.append(Finding("ADDRESS", m.start(), end, score, why, self.name))
        return out
