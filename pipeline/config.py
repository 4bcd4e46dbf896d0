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

import itertools
import os
import re
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import phonenumbers
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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


class InputConfig(_Section):
    """How input files are read (pipeline.extract); ``auto`` detects from the file."""

    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1251"] = "auto"
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    sheet: str | int | None = None  # XLSX: sheet name or 0-based index; None = first sheet
    chunk_size: int = Field(default=10_000, ge=100, le=1_000_000)
    # auto: python-calamine, openpyxl only when calamine cannot open the workbook.
    xlsx_engine: Literal["auto", "calamine", "openpyxl"] = "auto"

    @field_validator("delimiter", mode="before")
    @classmethod
    def _tab_by_name(cls, value: Any) -> Any:
        # A literal tab is easy to lose in YAML; accept the word too.
        return "\t" if isinstance(value, str) and value.strip().lower() == "tab" else value

    @field_validator("sheet")
    @classmethod
    def _check_sheet(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 0:
            raise ValueError("a sheet index counts from 0 (the first sheet)")
        return value


# ---- Column mapping and the rules for call-policy values -------------------------------------
# The call-policy rules live here (not in pipeline.transform) because config sits below
# transform in the dependency order and fixed values must fail at load time, naming their key;
# the transform stage applies the very same functions to per-row values.

PayloadType = Literal["string", "int", "decimal", "date", "datetime", "bool"]
PhoneType = Literal[
    "mobile",
    "fixed_line",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
]
PolicyField = Literal[
    "gmtZone",
    "startDateTime",
    "finishDateTime",
    "allowedDays",
    "allowedTime",
    "maxAttempts",
    "retryIntervalInMinutes",
    "dialerPriority",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Documented bounds of the integer policy fields (calls-api.md §5).
POLICY_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "maxAttempts": (1, 50),
    "retryIntervalInMinutes": (1, 2880),
    "dialerPriority": (1, 5),
}

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_OFFSET = re.compile(r"([+-])(\d\d?)(?:(:?)(\d\d)(?:\3(\d\d))?)?")
_IANA = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)+|UTC|GMT|UCT")


def normalize_gmt_zone(text: str) -> str:
    """Check a ``gmtZone`` value and return it in canonical form.

    Accepts ``Z``, ``±h``, ``±hh``, ``±hhmm``, ``±hh:mm``, ``±hhmmss``, ``±hh:mm:ss``, the same
    after ``UTC``/``GMT``/``UT``, and IANA ids (``Europe/Moscow``) known to ``zoneinfo``.
    Offsets come back as ``±hh:mm`` (``±hh:mm:ss`` when seconds are set), ``Z`` as ``+00:00``;
    IANA ids as written. Raises ``ValueError`` saying what is wrong::

        >>> normalize_gmt_zone("GMT+3"), normalize_gmt_zone("-0530")
        ('+03:00', '-05:30')
    """
    value = text.strip()
    if value == "Z":
        return "+00:00"
    body = value
    for prefix in ("UTC", "GMT", "UT"):
        if value.startswith(prefix) and value[len(prefix) : len(prefix) + 1] in ("+", "-"):
            body = value[len(prefix) :]
            break
    match = _OFFSET.fullmatch(body)
    if match:
        sign, hours, _, minutes, seconds = match.groups()
        if len(hours) == 1 and minutes:
            raise ValueError(f"{text!r}: a one-digit hour takes no minutes; write e.g. +03:30")
        h, m, s = int(hours), int(minutes or 0), int(seconds or 0)
        if m > 59 or s > 59 or h * 3600 + m * 60 + s > 18 * 3600:
            raise ValueError(f"{text!r}: offset out of range; allowed -18:00 ... +18:00")
        return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
    if _IANA.fullmatch(value):
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value
    raise ValueError(
        f"{text!r} is not a time zone; use Z, an offset like +03:00 (optionally after "
        f"UTC/GMT/UT) or an IANA id like Europe/Moscow"
    )


def parse_offset_datetime(text: str) -> datetime:
    """Parse an ISO-8601 date-time that carries an offset (``2025-01-31T10:00:00+03:00``, ``Z``).

    A date-time without an offset is refused: the API's reading of a local time is
    undocumented, and guessing the zone could call someone at night.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 date-time; write e.g. 2025-01-31T10:00:00+03:00"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset; append one, e.g. +03:00 or Z")
    return value


def check_intervals(intervals: list[tuple[str, str]]) -> None:
    """Check ``HH:MM`` call windows: each from < to, none overlapping or touching.

    Touching windows (10:00-12:00 and 12:00-14:00) are refused too: whether the server counts a
    shared end as an overlap is undocumented, and one window 10:00-14:00 says the same.
    """
    if not intervals:
        raise ValueError("needs at least one interval")
    spans = []
    for start, end in intervals:
        for part in (start, end):
            if not _HHMM.fullmatch(part):
                raise ValueError(f"{part!r} is not a 24-hour time HH:MM such as 09:30")
        if start >= end:
            raise ValueError(f"{start}-{end}: the start must be before the end (same day)")
        spans.append((start, end))
    spans.sort()
    for (_, prev_end), (start, end) in itertools.pairwise(spans):
        if start <= prev_end:
            raise ValueError(f"{start}-{end} overlaps or touches the window ending {prev_end}")


class PayloadField(_Section):
    """One payload field: the header it comes from and how to type its text."""

    column: str
    type: PayloadType = "string"
    required: bool = False  # an empty cell rejects the row instead of leaving the field out


class ColumnsConfig(_Section):
    """Which headers of the input file feed the phone, the payload and per-row call policy."""

    phone: str | list[str] = "phone"
    payload: dict[str, str | PayloadField] = Field(default_factory=dict)
    policy: dict[PolicyField, str] = Field(default_factory=dict)

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("give at least one header name")
        return value

    def payload_fields(self) -> dict[str, PayloadField]:
        """Payload fields with the short form (``name: header``) expanded."""
        return {
            name: spec if isinstance(spec, PayloadField) else PayloadField(column=spec)
            for name, spec in self.payload.items()
        }


_DEFAULT_TYPES: tuple[PhoneType, ...] = ("mobile", "fixed_line", "fixed_line_or_mobile")


class PhoneConfig(_Section):
    """Phone normalization policy (README "Phone policy" explains each choice)."""

    default_region: str = "RU"
    allowed_regions: list[str] = Field(default_factory=list)  # empty: any region
    allowed_types: list[PhoneType] = Field(default_factory=lambda: list(_DEFAULT_TYPES))
    extensions: Literal["reject", "strip"] = "reject"
    multiple: Literal["reject", "first"] = "reject"

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        return _region(value)

    @field_validator("allowed_regions")
    @classmethod
    def _check_regions(cls, value: list[str]) -> list[str]:
        return [_region(v) for v in value]


def _region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not an ISO 3166 region known to phonenumbers, e.g. RU")
    return region


class TimeInterval(_Section):
    """A call window in the number's local time."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    local_time_from: str = Field(alias="localTimeFrom")
    local_time_to: str = Field(alias="localTimeTo")


class PolicyConfig(_Section):
    """Call policy applied to every row (API field names); a mapped column overrides per row."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    gmt_zone: str | None = Field(default=None, alias="gmtZone")
    start_date_time: str | None = Field(default=None, alias="startDateTime")
    finish_date_time: str | None = Field(default=None, alias="finishDateTime")
    allowed_days: list[Weekday] | None = Field(default=None, alias="allowedDays")
    allowed_time: dict[Literal["default", Weekday], list[TimeInterval]] | None = Field(
        default=None, alias="allowedTime"
    )
    max_attempts: int | None = Field(default=None, ge=1, le=50, alias="maxAttempts")
    retry_interval_in_minutes: int | None = Field(
        default=None, ge=1, le=2880, alias="retryIntervalInMinutes"
    )
    dialer_priority: int | None = Field(default=None, ge=1, le=5, alias="dialerPriority")
    # Rows whose start lies in the past are rejected unless this is true.
    allow_start_in_past: bool = False

    @field_validator("gmt_zone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return None if value is None else normalize_gmt_zone(value)

    @field_validator("start_date_time", "finish_date_time")
    @classmethod
    def _check_datetime(cls, value: str | None) -> str | None:
        return None if value is None else parse_offset_datetime(value).isoformat()

    @field_validator("allowed_days")
    @classmethod
    def _check_days(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("list 1 to 7 distinct days from mon, tue, wed, thu, fri, sat, sun")
        return value

    @field_validator("allowed_time")
    @classmethod
    def _check_time(
        cls, value: dict[str, list[TimeInterval]] | None
    ) -> dict[str, list[TimeInterval]] | None:
        for day, windows in (value or {}).items():
            try:
                check_intervals([(w.local_time_from, w.local_time_to) for w in windows])
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _check_window(self) -> PolicyConfig:
        if self.start_date_time and self.finish_date_time:
            start = datetime.fromisoformat(self.start_date_time)
            if start >= datetime.fromisoformat(self.finish_date_time):
                raise ValueError("startDateTime must be before finishDateTime")
        return self

    def api_values(self) -> dict[str, Any]:
        """The fixed policy as JSON values under the API's field names (unset fields left out)."""
        return self.model_dump(
            by_alias=True, exclude_none=True, exclude={"allow_start_in_past"}, mode="json"
        )


class DedupeConfig(_Section):
    """Which rows inside one file count as the same call.

    ``phone_payload`` (default): same phone, payload and policy → later rows are duplicates;
    ``phone``: same phone alone (the first row's payload wins); ``none``: keep every row.
    """

    key: Literal["phone_payload", "phone", "none"] = "phone_payload"


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
    # A row identical (phone + payload + policy) to one sent to the same campaign within this
    # window, or still on its way, is recorded as a duplicate instead of being called again.
    # 7 days, not the server's 24 h: a nightly cron runs ~24 h apart, so a 24 h window would
    # let a re-exported list through or not depending on minutes; a week also covers the file
    # re-run by hand after a weekend. Set allow_repeats for lists meant to be called again.
    repeat_window_s: float = Field(default=7 * 86_400.0, ge=0, le=366 * 86_400.0)
    allow_repeats: bool = False


class ReportsConfig(_Section):
    """Report files written for people (``results``)."""

    # IANA zone for times in reports (e.g. Europe/Moscow); None: the machine's local zone.
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Moscow") from None
        return value


class NotifyConfig(_Section):
    """Optional webhook that receives each upload run's summary (no token, no phones)."""

    webhook_url: str | None = None  # ${ENV} references are expanded like everywhere else
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL, e.g. https://hooks.example.com/jaicp")
        return value


class Config(_Section):
    """The whole configuration file."""

    version: Literal[1] = 1
    api: ApiConfig = ApiConfig()
    ledger: LedgerConfig = LedgerConfig()
    input: InputConfig = InputConfig()
    columns: ColumnsConfig = ColumnsConfig()
    phone: PhoneConfig = PhoneConfig()
    policy: PolicyConfig = PolicyConfig()
    dedupe: DedupeConfig = DedupeConfig()
    upload: UploadConfig = UploadConfig()
    reports: ReportsConfig = ReportsConfig()
    notify: NotifyConfig = NotifyConfig()

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
