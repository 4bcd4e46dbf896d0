"""The Calls API client: one typed method per endpoint.

The client never retries: the uploader owns the retry policy together with its ledger. What a
retry loop needs is in the exceptions (:class:`~pipeline.errors.TransientApiError` and its
``retry_after``) and in :meth:`CallsApiClient.add_phones_body`, which sends stored bytes as they
are.

Usage::

    client = CallsApiClient.from_config(cfg, campaign_token())
    ids = client.add_phones([{"phone": "79001234567", "payload": {"name": "Anna"}}],
                            idempotence_key=str(uuid.uuid4()))
    body = encode_add_phones(items)                    # stored in the ledger first, then:
    ids = client.add_phones_body(body, idempotence_key=key)
    [r.job_status for r in client.job_report(ids=ids)]
    client.campaign_status()                           # CampaignStatus.RUNNING
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from pipeline.api.encoding import encode_add_phones
from pipeline.api.filters import AttemptReportFilter, JobReportFilter, json_bytes
from pipeline.api.models import CallAttemptReport, CallJobReport, CampaignInfo, CampaignStatus, Page
from pipeline.api.transport import MAX_REPLY_BYTES, Transport
from pipeline.api.wire_format import (
    id_list,
    list_of,
    pagination,
    parse_reply,
    selector,
    text_value,
    with_string_phones,
)
from pipeline.config import Config
from pipeline.errors import UnexpectedResponseError

_RESERVED_QUERY = {"phone", "gmtZone", "Idempotence-Key"}


class CallsApiClient:
    """A client for one campaign (one token). Every method raises ApiError subclasses only."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        clock: Callable[[], float] = time.time,
        ca_bundle: str | Path | None = None,
    ) -> None:
        # ``timeout`` bounds each whole request (connect, send, reply), not one socket read.
        self._t = Transport(
            base_url,
            token,
            session=session,
            connect_timeout=connect_timeout,
            timeout=timeout,
            max_reply_bytes=max_reply_bytes,
            clock=clock,
            ca_bundle=ca_bundle,
        )

    @classmethod
    def from_config(
        cls, cfg: Config, token: str, *, session: requests.Session | None = None
    ) -> CallsApiClient:
        """Build from the ``api:`` section (``JAICP_BASE_URL`` overrides the base URL)."""
        return cls(
            cfg.effective_base_url(),
            token,
            session=session,
            connect_timeout=cfg.api.connect_timeout_s,
            timeout=cfg.api.timeout_s,
            max_reply_bytes=cfg.api.max_reply_bytes,
            ca_bundle=cfg.api.ca_bundle,
        )

    def __repr__(self) -> str:
        return f"CallsApiClient({self._t.base_url!r}, token='***')"

    @property
    def session(self) -> requests.Session:
        """The HTTP session in use (injected or created)."""
        return self._t.session

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the client uses (for a retry loop sharing the same notion of now)."""
        return self._t.clock

    # --- adding numbers ---------------------------------------------------------------

    def add_phones(
        self, items: Sequence[Mapping[str, Any]], *, idempotence_key: str | None = None
    ) -> list[str]:
        """``POST addPhones``: create one call job per item; return their ids in item order."""
        items = with_string_phones(items)
        ids = self.add_phones_body(encode_add_phones(items), idempotence_key=idempotence_key)
        if len(ids) != len(items):
            raise UnexpectedResponseError(
                f"{self._t.url('calls', '/addPhones', safe=True)}: sent {len(items)} numbers "
                f"but got {len(ids)} ids back; look the phones up with job_report().",
                status=200,
            )
        return ids

    def add_phones_body(self, body: bytes, *, idempotence_key: str | None) -> list[str]:
        """``POST addPhones`` with a body already encoded (sent byte for byte, as stored)."""
        reply = self._t.send(
            "POST", "calls", "/addPhones", body=body, idempotence_key=idempotence_key
        )
        return parse_reply(reply, "addPhones", id_list)

    def _crm_params(
        self, phone: str | int, gmt_zone: str | None, payload: Mapping[str, Any] | None
    ) -> dict[str, str]:
        params = {"phone": str(phone)}
        if gmt_zone is not None:
            params["gmtZone"] = gmt_zone
        for key, value in (payload or {}).items():
            if key in _RESERVED_QUERY:
                raise ValueError(f"payload key {key!r} clashes with a crmCalls parameter")
            params[key] = str(value)
        return params

    def add_phone(
        self,
        phone: str | int,
        *,
        gmt_zone: str | None = None,
        payload: Mapping[str, Any] | None = None,
        idempotence_key: str | None = None,
    ) -> str:
        """``GET crmCalls/.../addPhone``: add one number; extra params become the payload."""
        return self._crm_add(
            "GET",
            "/addPhone",
            phone,
            gmt_zone=gmt_zone,
            payload=payload,
            idempotence_key=idempotence_key,
        )

    def add_phone_post(
        self,
        phone: str | int,
        *,
        gmt_zone: str | None = None,
        payload: Mapping[str, Any] | None = None,
        idempotence_key: str | None = None,
    ) -> str:
        """``POST crmCalls/.../addPhone`` with a form body; same meaning as :meth:`add_phone`."""
        return self._crm_add(
            "POST",
            "/addPhone",
            phone,
            gmt_zone=gmt_zone,
            payload=payload,
            idempotence_key=idempotence_key,
        )

    def test_add_phone(
        self,
        phone: str | int,
        *,
        gmt_zone: str | None = None,
        payload: Mapping[str, Any] | None = None,
        idempotence_key: str | None = None,
    ) -> str:
        """``GET crmCalls/.../test/addPhone``: like add_phone, without the duplicate check."""
        return self._crm_add(
            "GET",
            "/test/addPhone",
            phone,
            gmt_zone=gmt_zone,
            payload=payload,
            idempotence_key=idempotence_key,
        )

    def _crm_add(
        self,
        method: str,
        path: str,
        phone: str | int,
        *,
        gmt_zone: str | None,
        payload: Mapping[str, Any] | None,
        idempotence_key: str | None,
    ) -> str:
        # GET carries the fields in the query string, POST in a form body (the same fields).
        fields = self._crm_params(phone, gmt_zone, payload)
        get = method == "GET"
        reply = self._t.send(
            method,
            "crmCalls",
            path,
            params=fields if get else None,
            form=None if get else fields,
            idempotence_key=idempotence_key,
        )
        return text_value(reply)

    # --- jobs and reports ---------------------------------------------------------------

    def cancel_jobs(
        self,
        *,
        phones: Iterable[str | int] | None = None,
        ids: Iterable[str | int] | None = None,
        idempotence_key: str | None = None,
    ) -> list[str]:
        """``POST callJob/cancel``: return the ids of the jobs actually cancelled."""
        reply = self._t.send(
            "POST",
            "calls",
            "/callJob/cancel",
            body=selector(phones, ids),
            idempotence_key=idempotence_key,
        )
        return parse_reply(reply, "callJob/cancel", id_list)

    def job_report(
        self, *, phones: Iterable[str | int] | None = None, ids: Iterable[str | int] | None = None
    ) -> list[CallJobReport]:
        """``POST callJob/getReport``: every job of the given phones and/or ids."""
        reply = self._t.send("POST", "calls", "/callJob/getReport", body=selector(phones, ids))
        return parse_reply(reply, "callJob/getReport", lambda v: list_of(v, CallJobReport.parse))

    def attempt_report(
        self, *, phones: Iterable[str | int] | None = None, ids: Iterable[str | int] | None = None
    ) -> list[CallAttemptReport]:
        """``POST callAttempt/getReport``: every attempt of the given phones and/or job ids."""
        reply = self._t.send("POST", "calls", "/callAttempt/getReport", body=selector(phones, ids))
        return parse_reply(
            reply, "callAttempt/getReport", lambda v: list_of(v, CallAttemptReport.parse)
        )

    def job_report_by_date(
        self, filter: JobReportFilter, page: int = 0, page_size: int = 20
    ) -> Page[CallJobReport]:
        """``POST callJob/getReportByDate``: one page (page 0..199, size 1..200)."""
        body = json_bytes({"filter": filter.to_json(), "pagination": pagination(page, page_size)})
        reply = self._t.send("POST", "calls", "/callJob/getReportByDate", body=body)
        return parse_reply(
            reply,
            "callJob/getReportByDate",
            lambda v: Page.parse(v, CallJobReport.parse, page, page_size),
        )

    def unfinished_jobs(self, page: int = 0, page_size: int = 20) -> Page[CallJobReport]:
        """``POST callJob/getUnfinished``: one page of jobs whose ``finishedAt`` is null."""
        body = json_bytes(pagination(page, page_size))
        reply = self._t.send("POST", "calls", "/callJob/getUnfinished", body=body)
        return parse_reply(
            reply,
            "callJob/getUnfinished",
            lambda v: Page.parse(v, CallJobReport.parse, page, page_size),
        )

    def attempt_report_by_date(
        self, filter: AttemptReportFilter, page: int = 0, page_size: int = 20
    ) -> Page[CallAttemptReport]:
        """``POST callAttempt/getReportByDate``: one page of attempts."""
        body = json_bytes({"filter": filter.to_json(), "pagination": pagination(page, page_size)})
        reply = self._t.send("POST", "calls", "/callAttempt/getReportByDate", body=body)
        return parse_reply(
            reply,
            "callAttempt/getReportByDate",
            lambda v: Page.parse(v, CallAttemptReport.parse, page, page_size),
        )

    # --- the campaign -------------------------------------------------------------------

    def campaign_info(self) -> CampaignInfo:
        """``GET /api/calls/campaign/{token}``: settings, status and counters."""
        return parse_reply(self._t.send("GET", "calls", ""), "campaign", CampaignInfo.parse)

    def campaign_status(self) -> CampaignStatus:
        """``GET status``: the campaign status (JSON string or bare text accepted)."""
        return CampaignStatus.parse(text_value(self._t.send("GET", "calls", "/status")))

    def pause(self, *, idempotence_key: str | None = None) -> None:
        """``POST control/pause``: start no new attempts; calls in progress finish."""
        self._control("pause", idempotence_key)

    def resume(self, *, idempotence_key: str | None = None) -> None:
        """``POST control/resume``: continue a paused campaign."""
        self._control("resume", idempotence_key)

    def stop(self, *, idempotence_key: str | None = None) -> None:
        """``POST control/stop``: finish the campaign for good (pending jobs end as notDone)."""
        self._control("stop", idempotence_key)

    def _control(self, action: str, idempotence_key: str | None) -> None:
        self._t.send(
            "POST", "calls", f"/control/{action}", idempotence_key=idempotence_key, control=True
        )
