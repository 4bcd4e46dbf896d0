"""The HTML report of a run: one self-contained, offline page (:mod:`.page`, :mod:`.charts`).

Usage::

    from pipeline.reports.html import render_page
    html = render_page(facts, generated_at=now, version=__version__)
"""

from pipeline.reports.html.page import Facts, render_page

__all__ = ["Facts", "render_page"]
