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

from pipeline.config.loading import (
    WORKERS_ENV,
    campaign_token,
    load_config,
    parse_config,
    protect_process,
    requested_workers,
)
from pipeline.config.rules import (
    POLICY_INT_BOUNDS,
    WEEKDAYS,
    check_intervals,
    normalize_gmt_zone,
    parse_offset_datetime,
)
from pipeline.config.sections import (
    BASE_URL_ENV,
    TOKEN_ENV,
    ApiConfig,
    ColumnsConfig,
    Config,
    DedupeConfig,
    InboxConfig,
    InputConfig,
    LedgerConfig,
    NotifyConfig,
    PayloadField,
    PhoneConfig,
    PolicyConfig,
    ReportsConfig,
    UploadConfig,
)

__all__ = [
    "BASE_URL_ENV",
    "POLICY_INT_BOUNDS",
    "TOKEN_ENV",
    "WEEKDAYS",
    "WORKERS_ENV",
    "ApiConfig",
    "ColumnsConfig",
    "Config",
    "DedupeConfig",
    "InboxConfig",
    "InputConfig",
    "LedgerConfig",
    "NotifyConfig",
    "PayloadField",
    "PhoneConfig",
    "PolicyConfig",
    "ReportsConfig",
    "UploadConfig",
    "campaign_token",
    "check_intervals",
    "load_config",
    "normalize_gmt_zone",
    "parse_config",
    "parse_offset_datetime",
    "protect_process",
    "requested_workers",
]
