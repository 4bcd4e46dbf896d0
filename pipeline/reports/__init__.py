"""Reports: table writers (CSV/XLSX, injection-safe, 0600) and the rejects file.

Usage::

    from pipeline.reports import RejectsWriter, open_table_writer

    with RejectsWriter(Path("rejects.csv"), table.info) as rejects:   # input's own format
        rejects.add_rejection(cells, rejection)
    with open_table_writer(Path("accepted.csv"), ["row", "phone"]) as accepted:
        accepted.write_row(["1", "79160000001"])
"""

from __future__ import annotations

from pipeline.reports.rejects import REASON_COLUMNS, RejectsWriter
from pipeline.reports.safety import neutralise
from pipeline.reports.tables import TableWriter, open_table_writer

__all__ = [
    "REASON_COLUMNS",
    "RejectsWriter",
    "TableWriter",
    "neutralise",
    "open_table_writer",
]
