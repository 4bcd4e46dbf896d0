"""Every relative link in README.md and docs/*.md leads somewhere: the file (or folder) exists,
and a ``#anchor`` names a heading of that file as GitHub spells its anchors.

Links inside code (fenced blocks, inline code) and HTML comments are not links. GitHub's rule
for a heading's anchor: the heading's text (inline code keeps its text, link markup its label),
lower-cased, every character that is not a letter, digit, space, ``-`` or ``_`` dropped, spaces
turned into ``-``; a repeated anchor gets ``-1``, ``-2``, …
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).*?\1", re.DOTALL)
_LINK = re.compile(r"(?<!\!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (HTML comments blanked, keeping line count)."""
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    lines, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before de-duplication)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its label
    text = text.replace("`", "")
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags are dropped
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link outside code and comments."""
    found = []
    for number, line in enumerate(_prose_lines(page.read_text(encoding="utf-8")), start=1):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            found.append((number, match.group(1)))
    return found


def test_slug_follows_githubs_rules() -> None:
    assert slug("Time zones (`policy.timezone`)") == "time-zones-policytimezone"
    assert slug("What to do when…") == "what-to-do-when"
    assert slug("Contact caps (`upload.contact_caps`)") == "contact-caps-uploadcontact_caps"
    assert slug("Reading files (`input:`)") == "reading-files-input"
    assert slug("Чтение файлов") == "чтение-файлов"


def test_the_checker_sees_links_and_skips_code_and_comments(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n## Top\n\nsee [a](a.md#x) and `[b](b.md)`\n\n```\n[c](c.md)\n```\n"
        "<!-- [d](d.md) -->\n",
        encoding="utf-8",
    )
    assert links(page) == [(5, "a.md#x")]
    assert anchors(page) == {"top", "top-1"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_heading(page: Path) -> None:
    checked = 0
    broken = []
    for number, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(ROOT)}:{number}: ({target})"
        if not dest.exists():
            broken.append(f"{where} — no such file {dest}")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            broken.append(f"{where} — no heading with anchor #{anchor} in {dest.name}")
        checked += 1
    assert not broken, "broken links:\n" + "\n".join(broken)
    if page.name == "README.md":
        assert checked >= 20  # the pointers to docs/ are links, not prose
