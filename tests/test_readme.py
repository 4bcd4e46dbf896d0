"""README and docs/ stay true: every command they show exists, with every option they show.

README.md and every docs/*.md page are read; an invocation is ``jaicp-pipeline`` followed by
words, to the end of the line or the closing backtick of inline code.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from pipeline.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
# An invocation runs to the end of its line or to the closing backtick of inline code.
INVOCATION = re.compile(r"jaicp-pipeline((?:[ \t]+[^\s`]+)+)")


def _invocations(page: Path = README) -> list[list[str]]:
    found = []
    for match in INVOCATION.finditer(page.read_text(encoding="utf-8")):
        words = [w for w in match.group(1).split() if w not in {"\\", "\\|", "|"}]
        found.append(words)
    return found


def _options(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        names.update(o.split("=")[0] for o in [*param.opts, *param.secondary_opts])
    return names


def _resolve(words: list[str], page: str = "README") -> list[tuple[click.Command, list[str]]]:
    """Every command an invocation names (alternatives like info|status give several)."""
    ctx = click.Context(cli)
    root_options = _options(cli)
    i = 0
    while i < len(words) and words[i].startswith("--"):
        assert words[i].split("=")[0] in root_options, f"unknown root option {words[i]}"
        i += 1 if "=" in words[i] else 2
    if i >= len(words) or not re.match(r"^[a-z][a-z|\\-]*$", words[i]):
        return []  # prose such as "jaicp-pipeline is …", or only root options
    resolved = []
    for name in words[i].replace("\\", "").split("|"):
        command = cli.get_command(ctx, name)
        assert command is not None, f"{page} shows `jaicp-pipeline {name}`, which does not exist"
        rest = words[i + 1 :]
        if isinstance(command, click.Group) and rest and re.match(r"^[a-z][a-z|\\]*$", rest[0]):
            for sub in rest[0].replace("\\", "").split("|"):
                subcommand = command.get_command(ctx, sub)
                assert subcommand is not None, f"{page} shows `{name} {sub}`, which does not exist"
                resolved.append((subcommand, rest[1:]))
        else:
            resolved.append((command, rest))
    return resolved


def test_readme_shows_invocations() -> None:
    assert len(_invocations()) >= 10


def _check_page(page: Path) -> int:
    """Resolve every invocation of the page; the number of commands checked."""
    name = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name
    checked = 0
    for words in _invocations(page):
        for command, rest in _resolve(words, name):
            known = _options(command) | {"--help", "-h"}
            for word in rest:
                for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", word):
                    assert option in known, (
                        f"{name} shows `{command.name} ... {option}`, an option it does not have"
                    )
            checked += 1
    return checked


def test_every_command_and_option_in_readme_exists() -> None:
    assert _check_page(README) >= 10


@pytest.mark.parametrize("page", PAGES[1:], ids=lambda p: p.name)
def test_every_command_and_option_in_docs_exists(page: Path) -> None:
    _check_page(page)


def test_docs_show_invocations() -> None:
    """The docs pages are checked at all: together they show many commands."""
    assert sum(len(_invocations(page)) for page in PAGES[1:]) >= 30


def test_a_made_up_option_or_command_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("`jaicp-pipeline upload --config C --no-such-flag F`\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="--no-such-flag"):
        _check_page(page)
    page.write_text("jaicp-pipeline ledger nonsense --config C\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="ledger nonsense"):
        _check_page(page)
