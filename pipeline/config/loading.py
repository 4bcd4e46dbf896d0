"""Reading the config file: YAML, ``${ENV}`` interpolation, errors naming file, key and value;
and the campaign token, which comes from the environment only, into a process that cannot
leave a core dump.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import resource
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipeline.config.paths import resolve_paths
from pipeline.config.sections import TOKEN_ENV, Config
from pipeline.errors import ConfigError

_PR_SET_DUMPABLE = 4  # <linux/prctl.h>
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _AliasRefused(Exception):  # noqa: N818 - turned into a ConfigError right away
    """An anchor or alias in a config file (refused before anything is built from it)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _PlainLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases as the document is composed.

    An alias is cheap to parse but every copy of it is walked (``${ENV}`` interpolation,
    validation): ten nested levels of ten aliases are 10^10 strings from a 342-byte file. A
    config has no use for them, so the first one stops the load, before any node is built.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AliasRefused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def protect_process() -> None:
    """Let no core dump of this process (or of the workers it forks) exist from now on.

    Called before a secret enters memory: a crash would otherwise write the campaign token to
    disk, readable wherever cores are collected. A core size limit of 0 stops ordinary dumps;
    ``PR_SET_DUMPABLE = 0`` stops every dump of the process, even one piped to a collector
    (systemd-coredump, apport) that ignores the limit or after the limit is raised again, and
    keeps other users' debuggers out. Both pass to forked children; neither has an effect
    worth failing over where unsupported. The limit set is the soft one, the one the kernel
    applies (not-dumpable makes the hard one moot), so that programs this process starts are
    not barred from ever allowing dumps of their own.
    """
    with contextlib.suppress(ValueError, OSError):
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def campaign_token(environ: dict[str, str] | None = None) -> str:
    """Return the campaign token from ``JAICP_TOKEN``; never read from files or arguments.

    The token is the only credential of the Calls API and sits in the URL path, so keeping it
    out of config files and the process list (command-line arguments) is the first defence;
    core dumps are switched off first (:func:`protect_process`), as the process will hold it.
    """
    protect_process()
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_ENV} is not set: export the campaign's API token (campaign list → "
            f"'Copy API token') in the environment of this process, e.g. "
            f"`export {TOKEN_ENV}=...` in the cron wrapper script."
        )
    return token


WORKERS_ENV = "JAICP_WORKERS"


def requested_workers(environ: Mapping[str, str] | None = None) -> int | None:
    """Processes asked for in ``$JAICP_WORKERS`` (None: unset, choose automatically).

    The one reader of the variable, for ``validate`` (how many processes) and ``upload``
    (whether a file is read in a second process); raises ConfigError (exit 4) for a value
    that is not a whole number.
    """
    env = os.environ if environ is None else environ
    value = env.get(WORKERS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ConfigError(
            f"{WORKERS_ENV}={value!r} is not a whole number; set it to 1 (one process) or "
            f"more, or unset it to choose automatically"
        )
    return int(value)


def _interpolate(value: Any, where: str, source: str, environ: dict[str, str]) -> Any:
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            raise ConfigError(
                f"{source}: {where or '<top>'}: environment variable {name} is not set; "
                f"set it or write ${{{name}:-default}} to give a default."
            )

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{where}.{k}" if where else str(k), source, environ)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", source, environ) for i, v in enumerate(value)]
    return value


def _format_validation_error(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: the configuration is invalid:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "<top>"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key; check its spelling against configs/example.yaml"
        lines.append(f"  - {key}: {msg}{shown}")
    lines.append("Fix the keys above; every key and its default is listed in configs/example.yaml.")
    return "\n".join(lines)


def parse_config(
    data: Any, *, source: str = "<config>", environ: dict[str, str] | None = None
) -> Config:
    """Validate an already-parsed YAML document (a mapping) into a :class:`Config`."""
    env = dict(os.environ) if environ is None else environ
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections (api:, ...).")
    data = _interpolate(data, "", source, env)
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
    try:
        cfg.effective_base_url(env)  # JAICP_BASE_URL is checked as the file's value is
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return cfg


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read, interpolate and validate a YAML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found; pass --config with the path of a YAML file "
            f"(see configs/example.yaml)."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}.") from None
    try:
        data = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader, minus aliases
    except _AliasRefused as exc:
        raise ConfigError(
            f"{path}: line {exc.line}: YAML anchors and aliases (&name, *name) are not allowed "
            f"in a config file: a few hundred bytes of nested aliases expand to gigabytes. "
            f"Write the values out in full."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {exc}.") from None
    # Relative paths in the file (ledger, CA bundle) are relative to the file: see paths.py.
    return resolve_paths(parse_config(data, source=str(path), environ=environ), base=path.parent)
