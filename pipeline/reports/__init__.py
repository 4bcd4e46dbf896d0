"""Reports: table writers (CSV, XLSX, JSON; 0600, complete or absent) and the rejects file.

:mod:`~pipeline.reports.formats` is the one place that decides an output's format (by its
suffix), CSV delimiter (the input's, or ``reports.delimiter``) and BOM; docs/output-files.md
says what each format holds.

Usage::

    from pipeline.reports import RejectsWriter, choose_format, open_output

    with RejectsWriter(Path("rejects.csv"), table.info) as rejects:   # the input's delimiter
        rejects.add_rejection(cells, rejection)
    fmt = choose_format(Path("accepted.xlsx"), source=table.info)
    with open_output(Path("accepted.xlsx"), ["row", "phone"], fmt, kinds=["integer"]) as out:
        out.write_row(["1", "79160000001"])
"""

from __future__ import annotations

from pipeline.reports.formats import OutputFormat, check_output_path, choose_format
from pipeline.reports.rejects import REASON_COLUMNS, RejectsWriter
from pipeline.reports.safety import neutralise
from pipeline.reports.tables import TableWriter, open_output, open_table_writer

__all__ = [
    "REASON_COLUMNS",
    "OutputFormat",
    "RejectsWriter",
    "TableWriter",
    "check_output_path",
    "choose_format",
    "neutralise",
    "open_output",
    "open_table_writer",
]
