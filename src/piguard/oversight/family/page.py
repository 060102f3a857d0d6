"""What the family's pages share: the style, Beijing time on the Chinese page, escaped tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from markupsafe import Markup

from piguard.localtime import BEIJING
from piguard.oversight.reports.render import html_table

STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1a202c}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #cbd5e0;padding:.2rem .5rem;text-align:left}
td.n{text-align:right}.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #cbd5e0;padding:.5rem 1rem}
.kpi b{display:block;font-size:1.6rem}figure{margin:0}code{word-break:break-all}
.access{color:#2b6cb0}.refused{color:#c53030}
</style>"""


def clock(lang: str) -> Callable[[datetime], datetime]:
    """Times as the page shows them: Beijing time on the Chinese page, as recorded on the English one."""
    if lang == "zh":
        return lambda moment: moment.astimezone(BEIJING)
    return lambda moment: moment


def table(lang: str) -> Callable[[list[str], list[tuple[object, ...]]], Markup]:
    """An escaped HTML table maker that says 'none' in the page's language when there are no rows."""
    return partial(html_table, empty="无" if lang == "zh" else "none")
