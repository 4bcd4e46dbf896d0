"""The emulator's state and the operations on it: campaigns, jobs, keys, the crmCalls rule.

All mutation happens under one lock held only for the commit itself: request bodies are
parsed and validated before it is taken, so a 2000-row addPhones holds it for the time it
takes to append 2000 small objects.

Idempotence (reference §2.1a and the emulator contract): keys are scoped to the *account*
(first segment of the token) and live 24 h from first use on the emulator clock. A key is
stored only with a 2xx reply, together with the request fingerprint (method, endpoint name
without the token, sha256 of the body). Same key + same fingerprint → the stored reply is
replayed and nothing happens; same key + another fingerprint → 409
``idempotence.key.conflict``. For GET requests the "body" is the query string without the
key, parameters sorted.

The crmCalls duplicate rule (§2.2): the same phone with the same payload (or none) added
through crmCalls ``addPhone`` within 24 h of the first addition → 400 ``phone.duplicated``,
unless the request carries the first request's key (then the idempotence replay answers).
``test/addPhone`` and ``addPhones`` skip the rule.

Usage::

    state = State(Clock(0), Spelling())
    camp = state.create_campaign("1.2.abc", name="Reminders")
    reply, replayed = state.idempotent(camp, "key-1", ("POST", "addPhones", sha), commit)
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.emulator.dialer import stop_campaign
from pipeline.emulator.model import FINAL_STATUSES, ApiError, Campaign, Clock, Job, error
from pipeline.emulator.validate import Item

DAY_MS = 24 * 3600 * 1000
TOKEN_SHAPE = re.compile(r"\d+\.\d+\.[A-Za-z0-9]+")
RUNNING = ("new", "planned", "inProgress")
CAMPAIGN_STATUSES = frozenset({"new", "planned", "inProgress", "paused", "finished", "deleted"})

Fingerprint = tuple[str, str, str]  # method, endpoint name, sha256 of the body


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP reply ready to send (also what the idempotence store keeps)."""

    status: int
    body: bytes
    content_type: str = "application/json"


def json_reply(status: int, value: Any) -> Reply:
    return Reply(status, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


EMPTY_OK = Reply(200, b"", "text/plain")


@dataclass(slots=True)
class StoredKey:
    fingerprint: Fingerprint
    reply: Reply
    first_used: int


@dataclass(frozen=True, slots=True)
class Spelling:
    """Which of the documented spellings this emulator instance speaks (reference §8)."""

    running: str = "inProgress"  # or "inProcess"
    cancelled: str = "cancelledByUser"  # or "canceled"

    def campaign_status(self, status: str) -> str:
        return self.running if status == "inProgress" else status

    def job_status(self, status: str) -> str:
        return self.cancelled if status == "cancelledByUser" else status


class State:
    """Everything the emulator knows; see the module docstring for the rules."""

    def __init__(self, clock: Clock, spelling: Spelling, first_job_id: int = 5_665_334_000) -> None:
        self.clock = clock
        self.spelling = spelling
        self.lock = threading.RLock()
        self._first_job_id = first_job_id
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.campaigns: dict[int, Campaign] = {}
            self.by_token: dict[str, Campaign] = {}
            self.jobs_by_id: dict[str, Job] = {}
            self.keys: dict[tuple[str, str], StoredKey] = {}
            self.crm_seen: dict[tuple[int, str, str], int] = {}  # → first addition time
            self._next_job = self._first_job_id
            self.clock.reset()

    # ----------------------------------------------------------------- campaigns
    def create_campaign(
        self,
        token: str,
        name: str = "Campaign",
        *,
        status: str = "inProgress",
        max_simultaneous_calls: int = 5,
        max_attempts: int = 3,
        retry_interval_min: int = 30,
    ) -> Campaign:
        """Create a campaign; the id is the token's middle number unless another has it."""
        if not TOKEN_SHAPE.fullmatch(token):
            raise ValueError("the token must look like <digits>.<digits>.<letters and digits>")
        status = "inProgress" if status == "inProcess" else status
        if status not in CAMPAIGN_STATUSES:
            raise ValueError(f"status must be one of {sorted(CAMPAIGN_STATUSES)}, got {status!r}")
        if not 1 <= max_attempts <= 50 or not 1 <= retry_interval_min <= 2880:
            raise ValueError("maxAttempts must be 1-50 and retryIntervalInMinutes 1-2880")
        if max_simultaneous_calls < 1:
            raise ValueError("maxSimultaneousCalls must be at least 1")
        with self.lock:
            if token in self.by_token:
                raise ValueError("a campaign with this token already exists")
            account, wanted, _ = token.split(".", 2)
            ident = int(wanted)
            if ident in self.campaigns:
                ident = max(self.campaigns) + 1
            now = self.clock.now_ms()
            camp = Campaign(
                id=ident,
                token=token,
                account=account,
                name=name,
                status=status,
                created_at=now,
                max_simultaneous_calls=max_simultaneous_calls,
                max_attempts=max_attempts,
                retry_interval_min=retry_interval_min,
                start_time=now if status == "inProgress" else None,
            )
            self.campaigns[ident] = camp
            self.by_token[token] = camp
            return camp

    def campaign(self, token: str) -> Campaign:
        """The campaign of ``token`` or 404 ``invalid.token`` (deleted campaigns too)."""
        camp = self.by_token.get(token)
        if camp is None or camp.status == "deleted":
            raise error(404, "invalid.token", "no campaign has this token; check the API token")
        return camp

    # ----------------------------------------------------------------- idempotence
    def lookup_key(self, account: str, key: str, fingerprint: Fingerprint) -> Reply | None:
        """The stored reply to replay, None for an unused key, or 409 on a conflict."""
        with self.lock:
            stored = self.keys.get((account, key))
            if stored is None:
                return None
            if self.clock.now_ms() - stored.first_used >= DAY_MS:
                del self.keys[(account, key)]  # expired: the key is new again
                return None
            if stored.fingerprint != fingerprint:
                raise error(
                    409,
                    "idempotence.key.conflict",
                    f"Idempotence-Key {key!r} was first used for {stored.fingerprint[0]} "
                    f"{stored.fingerprint[1]} with another body; use a new key for a new request",
                )
            return stored.reply

    def idempotent(
        self,
        camp: Campaign,
        key: str | None,
        fingerprint: Fingerprint,
        commit: Callable[[], Reply],
    ) -> tuple[Reply, bool]:
        """Run ``commit`` under the lock unless ``key`` replays; store 2xx replies by key."""
        with self.lock:
            if key is not None:
                stored = self.lookup_key(camp.account, key, fingerprint)
                if stored is not None:
                    return stored, True
            reply = commit()
            if key is not None and 200 <= reply.status < 300:
                self.keys[(camp.account, key)] = StoredKey(fingerprint, reply, self.clock.now_ms())
            return reply, False

    # ----------------------------------------------------------------- adding jobs
    def _require_open(self, camp: Campaign) -> None:
        if camp.status == "finished":
            raise error(
                400,
                "invalid.call.task.state",
                "the campaign is stopped; numbers cannot be added to it",
                state="FINISHED",
            )

    def _new_job(self, camp: Campaign, item: Item, key: str | None, now: int) -> Job:
        phone, payload, policy = item
        previous = camp.by_phone.get(phone)
        job = Job(
            id=str(self._next_job),
            campaign_id=camp.id,
            phone=phone,
            payload=payload,
            policy=policy,
            created_at=now,
            idempotence_key=key,
            redial_number=len(previous) if previous else None,
        )
        self._next_job += 1
        job.next_due = now if policy.start_ms is None else max(now, policy.start_ms)
        camp.jobs.append(job)
        if previous is None:
            camp.by_phone[phone] = [job]
        else:
            previous.append(job)
        self.jobs_by_id[job.id] = job
        return job

    def add_phones(self, camp: Campaign, items: list[Item], key: str | None) -> Reply:
        """Commit a validated addPhones request (call under :meth:`idempotent`)."""
        self._require_open(camp)
        now = self.clock.now_ms()
        # _new_job's work with the lookups done once: this runs under the lock, and a far
        # server's benchmark sends 8 such requests at once (each waits for the others' turn).
        first = self._next_job
        self._next_job = first + len(items)
        ids = [str(n) for n in range(first, first + len(items))]
        by_phone, jobs, by_id, camp_id = camp.by_phone, camp.jobs, self.jobs_by_id, camp.id
        for ident, (phone, payload, policy) in zip(ids, items, strict=True):
            previous = by_phone.get(phone)
            job = Job(
                ident,
                camp_id,
                phone,
                payload,
                policy,
                now,
                key,
                len(previous) if previous else None,
            )
            job.next_due = now if policy.start_ms is None else max(now, policy.start_ms)
            jobs.append(job)
            if previous is None:
                by_phone[phone] = [job]
            else:
                previous.append(job)
            by_id[ident] = job
        return json_reply(200, ids)

    def add_phone_crm(self, camp: Campaign, item: Item, key: str | None, rule: bool) -> Reply:
        """Commit a crmCalls addPhone; ``rule`` applies the 24 h duplicate restriction."""
        self._require_open(camp)
        now = self.clock.now_ms()
        if rule:
            phone, payload, _ = item
            canon = "" if payload is None else json.dumps(payload, sort_keys=True)
            seen_key = (camp.id, phone, canon)
            first = self.crm_seen.get(seen_key)
            if first is not None and now - first < DAY_MS:
                raise error(
                    400,
                    "phone.duplicated",
                    f"phone {phone} with this payload was added less than 24 h ago; "
                    "resend with the first request's Idempotence-Key or wait 24 h",
                    phone=phone,
                )
            self.crm_seen[seen_key] = now
        return json_reply(200, self._new_job(camp, item, key, now).id)

    # ----------------------------------------------------------------- selecting jobs
    def select(self, camp: Campaign, phones: Iterable[str], ids: Iterable[str]) -> list[Job]:
        """Jobs named by phone and/or id, each once; the first unknown one fails the request."""
        chosen: dict[str, Job] = {}
        for phone in phones:
            jobs = camp.by_phone.get(phone)
            if not jobs:
                raise error(400, "phone.not.found", f"phone {phone} is not in this campaign")
            chosen.update((job.id, job) for job in jobs)
        for ident in ids:
            job = self.jobs_by_id.get(ident)
            if job is None or job.campaign_id != camp.id:
                raise error(400, "id.not.found", f"call job {ident} is not in this campaign")
            chosen[job.id] = job
        return list(chosen.values())

    def cancel(self, camp: Campaign, phones: list[str], ids: list[str]) -> Reply:
        """Cancel unfinished jobs; a call in progress finishes first (its job then ends)."""
        cancelled: list[str] = []
        now = self.clock.now_ms()
        for job in self.select(camp, phones, ids):
            if job.status in FINAL_STATUSES:
                continue
            cancelled.append(job.id)
            if job.status == "inProcess":
                job.cancel_requested = True
            else:
                job.status = "cancelledByUser"
                job.finished_at = now
                job.next_due = None
                camp.processed += 1
        return json_reply(200, cancelled)

    # ----------------------------------------------------------------- control
    def control(self, camp: Campaign, action: str) -> Reply:
        """pause / resume / stop with the transition rules of the module docstring."""
        status = camp.status
        allowed = {
            "pause": status in RUNNING,
            "resume": status == "paused",
            "stop": status != "finished",
        }
        if action not in allowed:
            raise error(404, "control.action.unknown", f"unknown control action {action!r}")
        if not allowed[action]:
            state = self.spelling.campaign_status(status)
            raise _illegal(action, state)
        now = self.clock.now_ms()
        if action == "pause":
            camp.status = "paused"
        elif action == "resume":
            camp.status = "inProgress"
            camp.start_time = camp.start_time or now
        else:
            stop_campaign(camp, now)
        return EMPTY_OK


def _illegal(action: str, state: str) -> ApiError:
    # Control errors use the other documented shape, ApiErrorData {error, message, args}.
    return ApiError(
        400,
        {
            "error": "invalid.call.task.state",
            "message": f"cannot {action} a campaign whose status is {state}",
            "args": {"action": action, "state": state},
        },
    )
