"""README stays true: every command it shows exists, with every option it shows."""

from __future__ import annotations

import re
from pathlib import Path

import click

from pipeline.cli.main import cli

README = Path(__file__).resolve().parent.parent / "README.md"
# An invocation runs to the end of its line or to the closing backtick of inline code.
INVOCATION = re.compile(r"jaicp-pipeline((?:[ \t]+[^\s`]+)+)")


def _invocations() -> list[list[str]]:
    found = []
    for match in INVOCATION.finditer(README.read_text(encoding="utf-8")):
        words = [w for w in match.group(1).split() if w not in {"\\", "\\|", "|"}]
        found.append(words)
    return found


def _options(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        names.update(o.split("=")[0] for o in [*param.opts, *param.secondary_opts])
    return names


def _resolve(words: list[str]) -> list[tuple[click.Command, list[str]]]:
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
        assert command is not None, f"README shows `jaicp-pipeline {name}`, which does not exist"
        rest = words[i + 1 :]
        if isinstance(command, click.Group) and rest and re.match(r"^[a-z][a-z|\\]*$", rest[0]):
            for sub in rest[0].replace("\\", "").split("|"):
                subcommand = command.get_command(ctx, sub)
                assert subcommand is not None, f"README shows `{name} {sub}`, which does not exist"
                resolved.append((subcommand, rest[1:]))
        else:
            resolved.append((command, rest))
    return resolved


def test_readme_shows_invocations() -> None:
    assert len(_invocations()) >= 10


def test_every_command_and_option_in_readme_exists() -> None:
    checked = 0
    for words in _invocations():
        for command, rest in _resolve(words):
            known = _options(command) | {"--help", "-h"}
            for word in rest:
                for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", word):
                    assert option in known, (
                        f"README shows `{command.name} ... {option}`, an option it does not have"
                    )
            checked += 1
    assert checked >= 10
