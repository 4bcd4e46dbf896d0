"""Formula-injection safety for cells we write into CSV and XLSX files.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and tab/CR can smuggle one past a naive check), so a crafted CRM name such as
``=HYPERLINK("http://evil", "click")`` would become live in the operator's Excel. Such a cell
is written with a leading apostrophe (``'=HYPERLINK(...)``), which shows the text and runs
nothing.

The one exception keeps phones and amounts readable: a value made only of an optional leading
``+``/``-``, digits and the separators space, ``(``, ``)``, ``-``, ``.`` (at least one digit)
is left as is. Without letters, ``!``, ``|``, ``:`` or quotes it can name no function, cell,
sheet or DDE channel; the worst Excel can do is show ``+7 916 000-00-01`` as text or
``+79160000001`` as a number, which runs nothing. The rule applies to CSV (files and the
``ledger export`` stream). XLSX needs none: its cells are typed string cells, shown and never
run, so they are written verbatim (:mod:`~pipeline.reports.xlsx`); JSON is not a spreadsheet.

Usage::

    neutralise("=SUM(A1:A9)")       # "'=SUM(A1:A9)"
    neutralise("+7 916 000-00-01")  # unchanged
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"[+-]?[0-9 ().-]*[0-9][0-9 ().-]*")


def neutralise(value: str) -> str:
    """Return ``value`` safe to open in a spreadsheet (rule in the module docstring)."""
    # Leading spaces are looked through: some programs trim them before deciding.
    head = value.lstrip(" ")
    if not head.startswith(TRIGGERS) or _HARMLESS.fullmatch(head):
        return value
    return "'" + value


def is_neutralised(original: str, written: str) -> bool:
    """True when ``written`` is ``original`` or its apostrophe-prefixed safe form."""
    return written in (original, "'" + original)
