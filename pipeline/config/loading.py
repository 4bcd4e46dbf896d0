"""Reading the config file: YAML, ``${ENV}`` interpolation, errors naming file, key and value;
and the campaign token, which comes from the environment only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipeline.config.paths import resolve_paths
from pipeline.config.sections import TOKEN_ENV, Config
from pipeline.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def campaign_token(environ: dict[str, str] | None = None) -> str:
    """Return the campaign token from ``JAICP_TOKEN``; never read from files or arguments.

    The token is the only credential of the Calls API and sits in the URL path, so keeping it
    out of config files and the process list (command-line arguments) is the first defence.
    """
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_ENV} is not set: export the campaign's API token (campaign list → "
            f"'Copy API token') in the environment of this process, e.g. "
            f"`export {TOKEN_ENV}=...` in the cron wrapper script."
        )
    return token


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
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {exc}.") from None
    # Relative paths in the file (ledger, CA bundle) are relative to the file: see paths.py.
    return resolve_paths(parse_config(data, source=str(path), environ=environ), base=path.parent)
