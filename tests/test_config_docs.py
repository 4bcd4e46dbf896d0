"""docs/configuration.md names every key the configuration models define.

A key reached through sections only is named by its dotted path in inline code
(`` `upload.batch_size` ``, `` `policy.timezone.fallback` ``: the YAML spelling, aliases
included); the keys of a model that sits inside a mapping or a list (a payload field's
``column``/``type``/``required``, a call window's ``localTimeFrom``) have no fixed path and are
named by themselves. A key added to a model without a word in the reference fails here.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.config import Config

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], list[type[BaseModel]]]:
    """(models the field holds directly, models inside a mapping or sequence of it)."""
    direct: list[type[BaseModel]] = []
    nested: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], []
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        inner_direct, inner_nested = _models_in(arg)
        if origin in (typing.Union, types.UnionType, typing.Annotated):
            direct += inner_direct
            nested += inner_nested
        else:  # dict, list, tuple, Literal ...: no fixed path below this key
            nested += inner_direct + inner_nested
    return direct, nested


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> tuple[list[str], list[str]]:
    """(dotted paths of every key, bare names of keys without a fixed path)."""
    paths: list[str] = []
    bare: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        paths.append(path)
        direct, nested = _models_in(field.annotation)
        for sub in direct:
            sub_paths, sub_bare = config_keys(sub, f"{path}.")
            paths += sub_paths
            bare += sub_bare
        for sub in nested:
            sub_paths, sub_bare = config_keys(sub, "")
            bare += sub_paths + sub_bare
    return paths, bare


def _code_spans(text: str) -> list[str]:
    spans = re.findall(r"`([^`\n]+)`", text)
    spans += re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)
    return spans


def _named(key: str, spans: list[str]) -> bool:
    token = re.compile(rf"(?<![\w.]){re.escape(key)}(?![\w])")
    return any(token.search(span) for span in spans)


def test_the_walk_finds_nested_sections_and_mapped_models() -> None:
    paths, bare = config_keys()
    assert "upload.batch_size" in paths
    assert "policy.timezone.from" in paths  # an alias, below an optional section
    assert "upload.contact_caps.day" in paths
    assert "policy.gmtZone" in paths
    assert {"column", "type", "required", "localTimeFrom", "localTimeTo"} <= set(bare)


def test_every_config_key_is_in_the_reference() -> None:
    spans = _code_spans(REFERENCE.read_text(encoding="utf-8"))
    paths, bare = config_keys()
    missing = [p for p in paths if not _named(p, spans)]
    missing += [k for k in sorted(set(bare)) if not _named(k, spans)]
    assert not missing, f"docs/configuration.md does not name these config keys: {missing}"


def test_a_key_left_out_is_caught() -> None:
    spans = _code_spans("| `upload.batch_size` | 500 |\n`upload.batch_size_max`\n")
    assert _named("upload.batch_size", spans)
    assert not _named("upload.concurrency", spans)
    assert not _named("batch_size", spans)  # a dotted path does not name its last part alone
