"""The YAML configuration, validated by pydantic at load time.

Usage::

    from pipeline.config import load_config, campaign_token

    cfg = load_config("configs/example.yaml")       # raises ConfigError with file, key, expected
    cfg.api.base_url, cfg.upload.batch_size
    token = campaign_token()                          # from JAICP_TOKEN only, never from a file

String values may reference the environment as ``${NAME}`` or ``${NAME:-default}``; a missing
variable without a default is a :class:`~pipeline.errors.ConfigError`. Unknown keys are errors
too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

TOKEN_ENV = "JAICP_TOKEN"  # noqa: S105 - the variable name, not a secret
BASE_URL_ENV = "JAICP_BASE_URL"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiConfig(_Section):
    """How to reach the Calls API."""

    base_url: str = "https://app.jaicp.com"
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # A custom CA bundle (PEM) for TLS-intercepting proxies; verification is never switched off.
    ca_bundle: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://app.jaicp.com")
        return value.rstrip("/")


class LedgerConfig(_Section):
    """Where the ledger lives (SQLAlchemy URL)."""

    url: str = "sqlite:///ledger.sqlite3"


class ColumnsConfig(_Section):
    """Column mapping from the input file (filled in by the extract/transform work)."""

    phone: str | list[str] = "phone"


class PhoneConfig(_Section):
    """Phone normalization policy (filled in by the extract/transform work)."""

    default_region: str = "RU"


class UploadConfig(_Section):
    """Batching, concurrency and retry budget for uploads."""

    batch_size: int = Field(default=500, ge=1, le=10_000)
    concurrency: int = Field(default=1, ge=1, le=32)
    max_attempts_per_request: int = Field(default=8, ge=1, le=100)
    backoff_base_s: float = Field(default=0.5, gt=0, le=60)
    backoff_max_s: float = Field(default=30.0, gt=0, le=600)
    retry_after_cap_s: float = Field(default=120.0, ge=0, le=3600)
    run_budget_s: float = Field(default=1800.0, gt=0)
    # Keys live 24 h on the server; we stop trusting them this long before that (clock skew).
    key_safety_margin_s: float = Field(default=3600.0, ge=0, le=43_200)


class Config(_Section):
    """The whole configuration file."""

    version: Literal[1] = 1
    api: ApiConfig = ApiConfig()
    ledger: LedgerConfig = LedgerConfig()
    columns: ColumnsConfig = ColumnsConfig()
    phone: PhoneConfig = PhoneConfig()
    upload: UploadConfig = UploadConfig()

    def effective_base_url(self, environ: dict[str, str] | None = None) -> str:
        """``JAICP_BASE_URL`` from the environment wins over ``api.base_url``."""
        env = os.environ if environ is None else environ
        override = env.get(BASE_URL_ENV, "").strip()
        return override.rstrip("/") if override else self.api.base_url


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
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None


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
    return parse_config(data, source=str(path), environ=environ)
