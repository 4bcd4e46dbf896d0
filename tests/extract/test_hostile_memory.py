"""``validate`` on each hostile file of issue 10 §4, in a child process: exit 6, a message
naming the bound and its setting, and a peak memory (the child and the workers it forks)
under 500 MB. Before the bounds: SIGABRT after a ~550 GB allocation (the far cell), 2.1 GB
(the bomb), 265 s to a traceback (the 1 GiB cell), 5.7 GB (the 500 MB CSV line)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.extract.hostile import Repeat, header_row, workbook

ROOT = Path(__file__).resolve().parents[2]
PEAK_MB = 500
HEAD = header_row("phone", "name").encode()
ROW2 = b'<row r="2"><c r="A2" t="inlineStr"><is><t>79160000001</t></is></c></row>'
RAISED = "input:\n  max_xlsx_mb: 4096\n  max_xlsx_ratio: 100000\n"


# The peak of a child counts the memory of the process it was forked from (Linux keeps the
# high-water mark across exec), and pytest's own process grows to hundreds of MB over the
# suite. So a small launcher process starts ``validate`` and reports that child's peak.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)  # the child's own peak, its forks included
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _validate(folder: Path, path: Path, extra: str = "") -> tuple[int, str, float]:
    """Exit code, stderr and peak RSS (MB) of ``validate`` on ``path`` in a child process."""
    config = folder / "config.yaml"
    config.write_text("columns:\n  phone: phone\n" + extra, encoding="utf-8")
    peak = folder / "peak.txt"
    with (folder / "out.txt").open("wb") as out, (folder / "err.txt").open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _LAUNCHER,
                str(peak),
                sys.executable,
                "-m",
                "pipeline",
                "validate",
                "--config",
                str(config),
                str(path),
            ],
            stdout=out,
            stderr=err,
            cwd=ROOT,
        )
        try:
            # a watchdog, not a timing assertion: the old code took minutes on some of these
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return proc.returncode, (folder / "err.txt").read_text(), int(peak.read_text()) / 1024


def _far_cell(folder: Path) -> Path:
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return workbook(folder / "far.xlsx", header_row("phone", "name") + far, dimension="A1:B2")


def _bomb(folder: Path) -> Path:
    return workbook(folder / "bomb.xlsx", Repeat(b" " * (1 << 20), 2048, head=HEAD, tail=ROW2))


def _gib_cell(folder: Path) -> Path:
    cell = b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return workbook(
        folder / "cell.xlsx",
        Repeat(b"A" * (1 << 20), 1024, head=HEAD + cell, tail=b"</t></is></c></row>"),
    )


def _long_line(folder: Path) -> Path:
    path = folder / "line.csv"  # 500 MB of NUL bytes in one line, sparse: no disk used
    with path.open("wb") as fh:
        fh.write(b"phone;name\n79160000001;a\n")
        fh.seek(500 << 20)
        fh.write(b"\n")
    return path


@pytest.mark.parametrize(
    ("make", "extra", "pattern"),
    [
        (_far_cell, "", r"its cells span A1:XFD1048576 .*declares A1:B2.*input\.max_columns"),
        (_bomb, "", r"inflates from [\d,]+ to 2,147,48\d,\d+ bytes .*input\.max_xlsx_ratio"),
        (_bomb, RAISED, r"sheet 'Data', holds a text of [\d,]+ characters or more"),
        (_gib_cell, "", r"inflates from [\d,]+ to 1,073,74\d,\d+ bytes .*input\.max_xlsx_ratio"),
        (_gib_cell, RAISED, r"sheet 'Data', holds a text of [\d,]+ characters or more.*max_cell"),
        (_long_line, "", r"line 3: a record longer than input\.max_record_chars = 1,048,576"),
    ],
)
def test_validate_ends_with_exit_6_and_a_message_in_bounded_memory(
    tmp_path: Path, make: object, extra: str, pattern: str
) -> None:
    assert callable(make)
    path = make(tmp_path)
    assert path.stat().st_blocks * 512 < 8 << 20  # small on disk
    code, stderr, peak = _validate(tmp_path, path, extra)
    assert code == 6, stderr
    assert re.search(pattern, stderr.replace("\n", " ")), stderr
    assert peak < PEAK_MB, f"peak RSS {peak:.0f} MB"
