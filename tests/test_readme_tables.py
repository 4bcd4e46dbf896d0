"""README's two tables an operator acts on name every code the tool can produce: each reason
code of :mod:`pipeline.transform.codes` in "Reason codes", each :class:`ExitCode` in "Exit codes".
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import ExitCode
from pipeline.transform import codes

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match is not None, f"README has no section '## {title}'"
    return match.group(1)


def test_every_reason_code_is_in_the_readme_table() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", _section("Reason codes"), re.MULTILINE))
    assert len(codes.ALL) >= 20
    missing = [code for code in codes.ALL if code not in rows]
    assert not missing, f"README 'Reason codes' lacks {missing}"


def test_every_exit_code_is_in_the_readme_table() -> None:
    rows = {int(n) for n in re.findall(r"^\| (\d+) \|", _section("Exit codes"), re.MULTILINE)}
    values = {v for k, v in vars(ExitCode).items() if k.isupper() and isinstance(v, int)}
    assert {0, 3, 4, 5} <= values
    assert not values - rows, f"README 'Exit codes' lacks {sorted(values - rows)}"
