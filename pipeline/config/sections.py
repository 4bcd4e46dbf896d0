"""The sections of the YAML configuration (pydantic models; unknown keys are errors).

Usage::

    from pipeline.config import Config
    Config.model_validate({"api": {"base_url": "https://app.jaicp.com"}}).upload.batch_size
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipeline.config.calling import TimezoneConfig, WindowConfig
from pipeline.config.contact import ContactCapsConfig, SuppressConfig
from pipeline.config.network import checked_override, insecure_http
from pipeline.config.rules import (
    PayloadType,
    PhoneType,
    PolicyField,
    Weekday,
    check_intervals,
    normalize_gmt_zone,
    parse_offset_datetime,
)

TOKEN_ENV = "JAICP_TOKEN"  # noqa: S105 - the variable name, not a secret
BASE_URL_ENV = "JAICP_BASE_URL"


class _Section(BaseModel):
    # No .inf / .nan anywhere: every number of the config is a finite, bounded setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _within(low: float, high: float, unit: str = "", *, above: bool = False) -> WrapValidator:
    """A finite number from ``low`` (exclusive when ``above``) to ``high``; an error names
    the whole range, whatever was wrong (``.inf``, ``nan``, ``1e308``, a word, too small):
    pydantic's own messages name one bound only."""
    lower = f"more than {_plain(low)}" if above else f"at least {_plain(low)}"
    text = f"must be a number {lower} and at most {_plain(high)}{unit}"

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            number = handler(value)
        except ValueError:  # pydantic's ValidationError is one
            raise PydanticCustomError("range", text) from None
        if not math.isfinite(number) or number < low or (above and number == low):
            raise PydanticCustomError("range", text)
        if number > high:
            raise PydanticCustomError("range", text)
        return number

    return WrapValidator(check)


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


MAX_RUN_BUDGET_S = 86_400.0


class ApiConfig(_Section):
    """How to reach the Calls API."""

    base_url: str = "https://app.jaicp.com"
    # The whole request (connect, send, status, headers, body), not one socket read: a server
    # dripping its reply cannot hold a request longer than this.
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # A custom CA bundle (PEM) for TLS-intercepting proxies; verification is never switched off.
    ca_bundle: Path | None = None
    # A longer reply is not read (an error): 64 MiB fits a getReport of 200 phones with
    # many jobs each and large report data.
    max_reply_bytes: int = Field(default=64 << 20, ge=1024, le=1 << 30)
    # Plain http:// to a host other than this machine sends the token (in the URL) in clear.
    allow_insecure_http: bool = False

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://app.jaicp.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_http(self) -> ApiConfig:
        problem = insecure_http(self.base_url, allowed=self.allow_insecure_http)
        if problem:
            raise ValueError(problem)
        return self


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
    # Title lines above the header (1C reports): the header's line/sheet row, or lines to
    # skip; with neither, the header is searched for among the first 20 non-blank rows.
    header_row: int | None = Field(default=None, ge=1)
    skip_rows: int = Field(default=0, ge=0, le=1_000_000)
    # Bounds on a file, checked before it costs memory; a file beyond one is refused whole
    # (exit 6) naming the setting. pipeline.extract.options.Limits explains each one.
    max_cell_chars: int = Field(default=32_767, ge=1, le=1 << 30)
    max_columns: int = Field(default=1_000, ge=1, le=1_000_000)
    max_record_chars: int = Field(default=1 << 20, ge=1, le=1 << 31)
    max_cells: int = Field(default=10_000_000, ge=1, le=1 << 40)
    max_xlsx_mb: int = Field(default=512, ge=1, le=1 << 20)
    max_xlsx_ratio: int = Field(default=100, ge=1, le=100_000)
    max_xlsx_members: int = Field(default=10_000, ge=1, le=10_000_000)

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
    """Phone normalization policy (docs/configuration.md "Phone policy" explains each choice)."""

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
    # How each row's zone is decided, and a named calling window (pipeline.config.calling).
    timezone: TimezoneConfig | None = None
    window: WindowConfig | None = None

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
        if self.gmt_zone and self.timezone and self.timezone.source != "campaign":
            raise ValueError(
                "gmtZone and timezone both decide the zone; keep gmtZone alone or use "
                "timezone.fallback for the zone of rows the column and number leave open"
            )
        if self.start_date_time and self.finish_date_time:
            start = datetime.fromisoformat(self.start_date_time)
            if start >= datetime.fromisoformat(self.finish_date_time):
                raise ValueError("startDateTime must be before finishDateTime")
        return self

    def api_values(self) -> dict[str, Any]:
        """The fixed policy as JSON values under the API's field names (unset fields left out)."""
        return self.model_dump(
            by_alias=True,
            exclude_none=True,
            exclude={"allow_start_in_past", "timezone", "window"},
            mode="json",
        )


class DedupeConfig(_Section):
    """Which rows inside one file count as the same call.

    ``phone_payload`` (default): same phone, payload and policy → later rows are duplicates;
    ``phone``: same phone alone (the first row's payload wins); ``none``: keep every row.
    """

    key: Literal["phone_payload", "phone", "none"] = "phone_payload"


class UploadConfig(_Section):
    """Batching, concurrency and retry budget for uploads."""

    batch_size: Annotated[int, _within(1, 10_000, " rows")] = 500
    # Requests on the wire at once: a number of senders, or "auto" — start at one and add
    # one while replies come back fast and unrefused, halve on 429 / 5xx / timeouts, up to
    # max_concurrency (pipeline.load.send.pace). 1 stays the default: one batch at a time,
    # in order, is what existing installations run and what the server's unknown limits
    # (rate limits are undocumented) are least likely to refuse.
    concurrency: int | Literal["auto"] = 1
    max_concurrency: Annotated[int, _within(1, 32, " senders")] = 8
    max_attempts_per_request: Annotated[int, _within(1, 100)] = 8
    backoff_base_s: Annotated[float, _within(0, 60, " s", above=True)] = 0.5
    backoff_max_s: Annotated[float, _within(0, 600, " s", above=True)] = 30.0
    retry_after_cap_s: Annotated[float, _within(0, 3600, " s")] = 120.0
    # A day at most: a nightly run must not still be going when the next one starts.
    run_budget_s: Annotated[float, _within(0, MAX_RUN_BUDGET_S, " s", above=True)] = 1800.0
    # Keys live 24 h on the server; we stop trusting them this long before that (clock skew).
    key_safety_margin_s: Annotated[float, _within(0, 43_200, " s")] = 3600.0
    # A row identical (phone + payload + policy) to one sent to the same campaign within this
    # window, or still on its way, is recorded as a duplicate instead of being called again.
    # 7 days, not the server's 24 h: a nightly cron runs ~24 h apart, so a 24 h window would
    # let a re-exported list through or not depending on minutes; a week also covers the file
    # re-run by hand after a weekend. Set allow_repeats for lists meant to be called again.
    repeat_window_s: Annotated[float, _within(0, 366 * 86_400, " s")] = 7 * 86_400.0
    allow_repeats: bool = False
    # Several upload processes (on one or several hosts) share a campaign's batches. None
    # (default): on for a PostgreSQL ledger, off for SQLite, where one run at a time holds the
    # campaign and a second one exits with code 5. true on SQLite is a configuration error.
    share_work: bool | None = None
    # How long a run's lease (and, when sharing, its worker) lives without renewal; renewed
    # every quarter of it. A run killed or frozen on another host holds its batches this long
    # at most before others take them over. Keep it far above the hosts' clock skew.
    lease_ttl_s: Annotated[float, _within(1, 3600, " s")] = 120.0
    # At most N new call jobs per phone per day/week/month across the ledger (config/contact.py).
    contact_caps: ContactCapsConfig | None = None
    # Stop before the first request when more than this share (0 < r <= 1) of a new file's
    # data rows is rejected (a wrong column mapping rejects them all): exit 8. None: off.
    # Duplicates, do-not-call and contact-cap rejects do not count (pipeline.load.screen).
    max_reject_ratio: Annotated[float, _within(0, 1, above=True)] | None = None
    # A file with no data rows is always a warning; "fail" also makes the run exit 9.
    empty_file: Literal["warn", "fail"] = "warn"

    @field_validator("concurrency", mode="wrap")
    @classmethod
    def _check_concurrency(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value == "auto":
            return "auto"
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32:
            raise PydanticCustomError(
                "range", "must be a number at least 1 and at most 32 senders, or auto"
            )
        return value


class InboxConfig(_Section):
    """``upload --inbox DIR``: how new exports are picked from the folder (pipeline.load.inbox).

    A file is taken once its size and modification time stayed the same for ``settle_s``
    seconds; names matching ``ignore`` (shell patterns) are never taken, besides hidden files,
    ``~$*`` lock files and the usual partial-download suffixes (``.part``, ``.tmp``, …).
    """

    settle_s: Annotated[float, _within(0, 3600, " s")] = 10.0
    ignore: list[str] = Field(default_factory=list)


class ReportsConfig(_Section):
    """Report files written for people (``results``)."""

    # IANA zone for times in reports (e.g. Europe/Moscow); None: the machine's local zone.
    timezone: str | None = None
    # CSV delimiter of results, accepted, rejects and ledger export files: "auto" (the input
    # CSV's own, "," when there is none), ",", ";" or tab ("\t" or the word tab).
    delimiter: Literal["auto", ",", ";", "\t"] = "auto"

    @field_validator("delimiter", mode="before")
    @classmethod
    def _check_delimiter(cls, value: object) -> object:
        return "\t" if isinstance(value, str) and value.lower() in ("tab", "\\t") else value

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
    timeout_s: Annotated[float, _within(0, 120, " s", above=True)] = 10.0

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
    suppress: SuppressConfig = SuppressConfig()
    inbox: InboxConfig = InboxConfig()
    reports: ReportsConfig = ReportsConfig()
    notify: NotifyConfig = NotifyConfig()

    def digest(self) -> str:
        """sha256 of the validated config (stored on each run: which settings produced it)."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()

    def effective_base_url(self, environ: Mapping[str, str] | None = None) -> str:
        """``JAICP_BASE_URL`` from the environment wins over ``api.base_url``; an override
        that is not an http(s) URL, or is plain http:// to another host, is a ConfigError."""
        env = os.environ if environ is None else environ
        override = env.get(BASE_URL_ENV, "").strip()
        if not override:
            return self.api.base_url
        return checked_override(override, BASE_URL_ENV, allowed=self.api.allow_insecure_http)
