"""The JAICP Calls API client and its models.

Usage::

    from pipeline.api import CallsApiClient, encode_add_phones
    client = CallsApiClient.from_config(cfg, campaign_token())
    body = encode_add_phones(items)          # canonical bytes, stored in the ledger and resent
    ids = client.add_phones_body(body, idempotence_key=key)
"""

from pipeline.api.client import CallsApiClient
from pipeline.api.encoding import encode_add_phones
from pipeline.api.error_map import mask_phone, parse_retry_after
from pipeline.api.filters import AttemptReportFilter, JobReportFilter
from pipeline.api.models import (
    CallAttemptReport,
    CallJobReport,
    CampaignInfo,
    CampaignStatus,
    JobStatus,
    Page,
    ShortReport,
)

__all__ = [
    "AttemptReportFilter",
    "CallAttemptReport",
    "CallJobReport",
    "CallsApiClient",
    "CampaignInfo",
    "CampaignStatus",
    "JobReportFilter",
    "JobStatus",
    "Page",
    "ShortReport",
    "encode_add_phones",
    "mask_phone",
    "parse_retry_after",
]
