"""English PERSON (census name lists + honorifics) and street ADDRESS (US/UK-style grammar)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from piguard.discover.findings import Finding
from piguard.discover.recognizers.base import Recognizer, find_context

__all__ = ["EnglishAddressRecognizer", "EnglishPersonRecognizer"]


@cache
def _names(kind: str) -> frozenset[str]:
    data = resources.files("piguard.discover.recognizers.data").joinpath(f"en_{kind}_names.txt")
    return frozenset(line for line in data.read_text(encoding="utf-8").splitlines() if line)


def _latin(category: str) -> str:
    """The Latin letters (Basic Latin to Latin Extended-B) of one Unicode category, as a class body."""
    return "".join(re.escape(ch) for ch in map(chr, range(0x41, 0x250)) if unicodedata.category(ch) == category)


# Names are written in Latin letters beyond ASCII too (Nyström, Jeknić, Szász): a capitalised
# word is one upper-case letter and lower-case ones, optionally joined by a hyphen or apostrophe.
# O'Brien and D'Angelo are one word, McCray and MacLeod keep their inner capital; a possessive
# "'s" is not part of the name. Patterns begin with the upper-case class so that the regex engine
# can skip to candidate positions; "not after a letter" is then checked looking back over two
# characters (the capital and the one before it).
_UP, _LOW = f"[{_latin('Lu')}]", f"[{_latin('Ll')}]"
_CAP_REST = (
    r"(?:(?<=M)a?c" + _UP + r"|(?<=[ODL])['’]" + _UP + ")?"  # McCray, MacLeod, O'Brien, D'Angelo
    + _LOW + r"+(?:-" + _UP + "?" + _LOW + r"+|['’](?:" + _UP + _LOW + "+|" + _LOW + "{2,}))?"
)
_CAP = _UP + _CAP_REST
_WORD_START_CAP = _UP + r"(?<![^\W\d_].)" + _CAP_REST
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"
# A middle initial, with or without its full stop ("Ruth R Montez", "Iva D. Grusová").
_INITIAL = _UP + r"\.?[ \t]+"
_SUFFIX = r"(?:[ \t]+(?:Jr\.?|Sr\.?|II|III|IV))?"
_HONORIFIC = re.compile(
    # Either case ("ms. Marcela"), spelt out so that the engine can skip to an M, D, P or S.
    r"[MmDdPpSs](?<![^\W\d_].)(?:(?<=[Mm])(?:rs?|s|iss|x|adam)|(?<=[Dd])r|(?<=[Pp])rof|(?<=[Ss])ir)"
    r"\.?\s+(?P<v>" + _CAP
    + r"(?:\s+" + _UP + r"\.)?(?:\s+" + _CAP + r")?)" + _NOT_BEFORE_LETTER
)
_RUN = re.compile(_WORD_START_CAP + r"(?:[ \t]+(?:" + _INITIAL + r")?" + _CAP + r")+" + _NOT_BEFORE_LETTER)
_WORD = re.compile(_CAP + "|" + _UP + r"\.?(?=[ \t])")
# A name right after words that introduce one ("my name is", "Dear", "called", "Name:"). Found
# from the capitalised word backwards: the cue is looked for only in the few characters before
# each candidate, which is several times faster than trying every cue at every word.
_CAPITALISED = re.compile(_WORD_START_CAP)
_CAPITALISED_START = re.compile(_UP + _LOW)
_CUE_BEFORE = re.compile(
    r"\b(?i:my name is|n(?:ame(?:d|'s| is|s? ?[:?]))|call(?:ed| me)|i(?:'m| am)|t(?:his is|hanks|alk to)"
    r"|d(?:ear|eceased)|h(?:i|ello|usband)|regards|s(?:incerely|igned|peak to|pouse)|attn:?|ask for"
    r"|next of kin|patient|relative|wife|son|daughter|father|mother)"
    # the cue ends a word and is set off by a space, a comma or colon, or a line break ("Name:Li")
    r"(?![A-Za-z])(?:[ \t]*[,:][ \t]*\n?|[ \t]*\n|[ \t]|(?<=[:?]))[ \t]*\Z"
)
_CUE_WINDOW = 24
# Lower-case pieces one of which every cue contains: a text without any skips the cue search.
_CUE_STEMS = ("name", "call", "i'm", "i am", "this is", "thank", "talk to", "dear", "hi", "hello",
              "regards", "sincerely", "signed", "speak to", "attn", "ask for", "deceased", "husband",
              "spouse", "next of kin", "patient", "relative", " wife", " son", "daughter", "father",
              "mother")  # " son", " wife": not every "person" or "housewife"
_CUED_NAME = re.compile(_CAP + r"(?:[ \t]+(?:" + _INITIAL + r")?" + _CAP + r"){0,2}" + _SUFFIX + _NOT_BEFORE_LETTER)
# Chinese names in Latin letters: a common pinyin surname and a given name of one or two pinyin
# syllables, in either order ("Zhang Jianguo", "Xiuying Wang", "WANG Xiuying"). "He" is left out
# (the English pronoun starts too many sentences).
_PINYIN_SURNAMES = frozenset({
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Guo", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng",
    "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Yuan", "Pan", "Cai", "Jiang", "Yu",
    "Du", "Ye", "Cheng", "Wei", "Su", "Lu", "Ding", "Ren", "Shen", "Yao", "Jin", "Fu", "Zhong",
    "Cui", "Tan", "Fan", "Shi", "Qiu", "Qin", "Jia", "Xue", "Yan", "Dai", "Mo", "Kong", "Bai",
    "Kang", "Mao", "Gu", "Hou", "Shao", "Meng", "Long", "Wan", "Duan", "Lei", "Qian", "Yin", "Yi",
    "Chang", "Wen", "Niu", "Hao", "Xiong", "Bao", "Geng", "Ji", "Ou", "Ouyang", "Sima", "Zhuge",
    "Shangguan", "Situ", "Murong", "Dongfang", "Huangfu",
})
_SYLLABLE = (
    r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|uai|iao|ian|uan|ai|ei|ao|ou|an|en|in|un|er|ia|ie|iu|ua|uo|ui|ue|a|o|e|i|u|v)"
)
_PINYIN_GIVEN = re.compile(f"(?:{_SYLLABLE}){{1,2}}", re.IGNORECASE)
# Surnames in capitals, as on passports and forms ("LIU Guilan").
_UPPER_WORD = re.compile(r"[A-Z](?<![A-Za-z0-9_].)[A-Z]{1,8}\b")  # capital first: the engine skips ahead
# The word right after or right before a surname (spaces or tabs between).
_NEXT_WORD = re.compile(r"[ \t]+([A-Z][a-z]+|[A-Z]{2,})\b")
_PREVIOUS_WORD = re.compile(r"\b([A-Z][a-z]+|[A-Z]{2,})[ \t]+\Z")
# Given-name spellings that are also everyday English words.
_NOT_GIVEN = frozenset({"He", "Me", "We", "Be", "An", "Can", "Man", "Ran", "Ban", "Pan", "Fan", "Hang", "Bang",
                        "Sang", "Gang", "Dong", "Ding", "Sing", "Ping", "Pong", "Tong", "Lie", "Die", "Tie",
                        "Pie", "Hen", "Pen", "Ten", "Den", "Men", "Then", "Tin", "Pin", "Bin", "Sun", "Run",
                        "Gun", "Fun", "Nun", "Bun", "Shin", "Chin", "Cha", "Ha", "La", "Ma", "Pa", "Yo"})
_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Close|Row|"
    "Gardens|Grove|Hill|Park|Plaza|Loop|Pike|Alley|Route|Walk|View|Ridge|Point|Crossing|Path"
)
# Second words that make a first name a place ("Margaret Street"). Street types that are also
# common surnames (Hill, Park, Lane, Way, Grove) are left out, so "Jonah Hill" stays a name.
_PLACE_WORDS = frozenset({
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Drive", "Court", "Place",
    "Terrace", "Square", "Gardens", "Plaza", "Highway", "Parkway", "Crescent", "Parks", "Bridge",
    "Station", "Hospital", "School", "College", "University", "County", "City", "Island", "Lake",
    "River",
})
# Words around a lone first name that speak of a person.
_PERSON_BEFORE = re.compile(r"\b(?:to|with|and|by|said|told|asked|for|than|thank|tell|met|meet|called)[ \t]+\Z")
_PERSON_AFTER = re.compile(
    r"(?:['’]s\b|[ \t]+(?:said|says|told|asked|had|has|was|is|will|would|wrote|replied|shouted)\b)"
)
# Capitalised words that follow a name cue without being names.
_NOT_NAMES = frozenset({
    "The", "A", "An", "This", "That", "These", "Those", "It", "Not", "Here", "There", "Sorry",
    "Glad", "Happy", "Fine", "Good", "Back", "Going", "Looking", "Available", "Also", "All",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
    "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Team", "Sir", "Madam", "Customer", "Everyone", "Sent", "Mr", "Mrs", "Ms",
    "Miss", "Mx", "Dr", "Prof",
})
PERSON_CONTEXT = ("name", "patient", "deceased", "contact", "next of kin", "spouse", "dear",
                  "signed", "by", "from", "attn")
# Capitalised words that are also common first names but mostly start sentences or places.
_COMMON = frozenset({"May", "June", "April", "August", "Will", "Mark", "Grace", "Hope", "Joy",
                     "Faith", "Page", "Street", "Avenue", "Road", "Paris", "Austin", "Virginia",
                     "Georgia", "Carolina", "Florence", "Jordan", "Chase", "Bill", "Art", "Sun", "In",
                     "France", "German", "England", "Love", "Carry", "Royal", "Christian", "China"})


def _pinyin_given(word: str) -> bool:
    """Whether ``word`` (title case) can be a pinyin given name of one or two syllables."""
    if len(word) < 2 or word in _PINYIN_SURNAMES or word in _NOT_GIVEN or word in _NOT_NAMES:
        return False
    return _PINYIN_GIVEN.fullmatch(word) is not None


class EnglishPersonRecognizer(Recognizer):
    """English names: after an honorific or a name cue, census first name + surname, or a lone first name."""

    name = "en_person"
    entities = ("PERSON",)

    def prefilter(self, text: str) -> bool:
        """Needs a capitalised word (Latin letters)."""
        return _CAPITALISED_START.search(text) is not None

    def analyze(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Names scored by which lists and cues agree."""
        if "PERSON" not in entities:
            return []
        first, last = _names("first"), _names("last")
        out: list[Finding] = []
        for m in _HONORIFIC.finditer(text):
            out.append(Finding("PERSON", m.start("v"), m.end("v"), 0.85,
                               "pattern honorific + capitalised name", self.name))
        capitalised = list(_CAPITALISED.finditer(text))
        out += self._pinyin_names(text, capitalised)
        out += self._cued(text, capitalised)
        out += self._single_first_names(text, capitalised, first)
        for run in _RUN.finditer(text):
            words = [(w.group(), run.start() + w.start(), run.start() + w.end())
                     for w in _WORD.finditer(run.group())]
            i = 0
            while i < len(words) - 1:
                given = words[i][0]
                j = i + 2 if len(words[i + 1][0].rstrip(".")) == 1 and i + 2 < len(words) else i + 1
                family = words[j][0]
                if given not in first or (given in _COMMON and family not in last) or family in _PLACE_WORDS:
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

    def _pinyin_names(self, text: str, capitalised: list[re.Match[str]]) -> list[Finding]:
        """Chinese names in pinyin: a common surname with a one- or two-syllable given name."""
        out: list[Finding] = []
        upper = [m for m in _UPPER_WORD.finditer(text) if m.group().title() in _PINYIN_SURNAMES]
        for surname in [m for m in capitalised if m.group() in _PINYIN_SURNAMES] + upper:
            after = _NEXT_WORD.match(text, surname.end())
            if after is not None and _pinyin_given(after.group(1).title()):
                start, end = surname.start(), after.end()
            else:
                before = _PREVIOUS_WORD.search(text, max(0, surname.start() - 16), surname.start())
                if before is None or not _pinyin_given(before.group(1).title()):
                    continue
                start, end = before.start(), surname.end()
            out.append(Finding("PERSON", start, end, 0.7, "pinyin surname + given name", self.name))
        return out

    def _single_first_names(
        self, text: str, capitalised: list[re.Match[str]], first: frozenset[str]
    ) -> list[Finding]:
        """A census first name alone where a person is spoken of ("said Felix to Linda", "Scott had")."""
        out: list[Finding] = []
        for m in capitalised:
            word = m.group()
            if len(word) < 3 or word not in first or word in _COMMON or word in _NOT_NAMES:
                continue
            if text[m.end() : m.end() + 2][:1] == " " and text[m.end() + 1 : m.end() + 2].isupper():
                continue  # part of a longer capitalised run (the run rules decide)
            spoken_of = _PERSON_BEFORE.search(text, max(0, m.start() - 12), m.start()) or _PERSON_AFTER.match(
                text, m.end()
            )
            if spoken_of is None:
                continue
            cue = spoken_of.group().strip(" ,:\t").lower()
            out.append(Finding("PERSON", m.start(), m.end(), 0.5, f"census first name; {cue!r}", self.name))
        return out

    def _cued(self, text: str, capitalised: list[re.Match[str]]) -> list[Finding]:
        """Capitalised names right after words that introduce a name."""
        out: list[Finding] = []
        lowered = text.lower()
        for stem in _CUE_STEMS:  # a plain loop: a generator costs more than the checks
            if stem in lowered:
                break
        else:
            return out
        done = 0
        for candidate in capitalised:
            start = candidate.start()
            if start < done:
                continue  # inside the name just found
            cue = _CUE_BEFORE.search(text, max(0, start - _CUE_WINDOW), start)
            name = _CUED_NAME.match(text, start) if cue is not None else None
            if cue is None or name is None:
                continue
            words = [(w.start(), w.end(), w.group()) for w in re.finditer(r"\S+", name.group())]
            while words and words[-1][2] in _NOT_NAMES:
                words.pop()
            if not words or words[0][2] in _NOT_NAMES:
                continue
            done = start + words[-1][1]
            label = cue.group().strip(" \t\n,:?").lower()
            why = f"capitalised name after {label!r}"
            out.append(Finding("PERSON", start + words[0][0], done, 0.7, why, self.name))
        return out

    def validate_value(self, value: str) -> list[tuple[str, float]]:
        """PERSON when the whole value is a first + last name."""
        words = value.split()
        if 2 <= len(words) <= 3 and words[0] in _names("first") and words[-1] in _names("last"):
            return [("PERSON", 0.7)]
        return []


_EN_ADDRESS = re.compile(
    r"(?<![\w])\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\.?\s+){1,4}"
    r"(?:" + _STREET_TYPES + r")\.?(?![a-z])"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?[\w-]{1,6})?"
    r"(?:,?\s*\n?\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?"
    r"(?:,?\s*\n?\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?"
)
# Continental European streets: a street name with its type as a suffix and the house number
# after it ("Harjukuja 54", "Magrethevej 298", "Stubengraben 80", "Asselsestraat 7"), or a type
# word before the name ("Via Franscini 71", "Rue de la Gare 5", "ul. Słowicza 10", "Calle Mayor 5").
_EU_SUFFIXES = (
    "vej|gade|gatan|gata|vägen|veien|vegen|straße|strasse|str\\.|weg|laan|straat|kuja|tie|katu|utca|ulica|"
    "cesta|gasse|graben|platz|allee|steig|dreef|kade|gracht|plein|stien|krogen|vænget|torget"
)
_EU_PREFIXES = (
    "Via|Viale|Vicolo|Piazza|Corso|Rua|Avenida|Avda\\.|Av\\.|Rue|Boulevard|Bd\\.|Calle|Carrer|Plaza|Paseo|"
    "Camino|Travessa|Largo|Strada|Ulica|ul\\.|Plac|Aleja|al\\.|Trg|Ulitsa"
)
_EU_ADDRESS = re.compile(
    r"(?<![\w])(?:"
    + _CAP + r"(?:" + _EU_SUFFIXES + r")"
    + r"|(?:" + _EU_PREFIXES + r")(?:[ \t]+(?:de|da|do|del|della|di|la|le|les|des|du|dos|das|d'))*"
    + r"(?:[ \t]+" + _CAP + r"){1,4}"
    + r")[ \t]+\d{1,4}[A-Za-z]?(?![\w])"
)
_ADDRESS_HINT = re.compile(r"\d\s+[A-Z]|[^\W\d_.]\.?[ \t]+\d")
ADDRESS_CONTEXT = ("address", "lives at", "live at", "located at", "resides", "residence",
                   "home", "mail to", "ship to")


class EnglishAddressRecognizer(Recognizer):
    """English street addresses: number, street name and type, unit, city, state, ZIP."""

    name = "en_address"
    entities = ("ADDRESS",)

    def prefilter(self, text: str) -> bool:
        """Needs a number next to a word: "42 Oak Street" or "Harjukuja 54"."""
        return _ADDRESS_HINT.search(text) is not None

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
        for m in _EU_ADDRESS.finditer(text):
            score, why = 0.7, "grammar street name with its type + house number"
            word = find_context(text, m.start(), m.end(), ADDRESS_CONTEXT, before=20, after=0)
            if word is not None:
                score, why = 0.85, why + f"; context {word}"
            out.append(Finding("ADDRESS", m.start(), m.end(), score, why, self.name))
        return out
