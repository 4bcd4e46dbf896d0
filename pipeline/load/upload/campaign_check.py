"""The new-ledger check: a ledger that has never sent to a campaign does not send to one that
already holds numbers, unless the operator says so.

Usage::

    note = check_campaign(ledger, campaign, client, run_id=run_id, new_ledger=False)
    # raises UnknownNumbersError (exit 4) before anything is sent, or returns a line for the
    # summary the first time the campaign passes (None when it had passed before)

    gate = SendGate(ledger, campaign, client_source, run_id=run_id, new_ledger=False,
                    retry=policy, budget=budget, sleep=sleep, control=control)
    dispatcher.may_send = gate     # asked with the first batches claimed; retries the
                                   # question like any request, stops the run when refused

Why: a deleted ledger, or a second one by mistake (another working directory, another host's
copy of the config), does not know what was sent. Derived request keys make the same batches
replay on the server for 24 hours, but a changed file or a later night would call everyone
again. ``campaign info`` tells whether the campaign holds numbers at all (``totalNumbers``);
a campaign the ledger already knows is not asked again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pipeline.api import CallsApiClient
from pipeline.errors import PipelineError, TransientApiError, UnknownNumbersError
from pipeline.ledger import Campaign, Ledger
from pipeline.load.retry import Budget, RetryPolicy


def check_campaign(
    ledger: Ledger,
    campaign: Campaign,
    client: CallsApiClient,
    *,
    run_id: int,
    new_ledger: bool,
) -> str | None:
    """Let uploads send to ``campaign`` or raise :class:`UnknownNumbersError` (see module)."""
    if campaign.checked or ledger.campaigns.checked(campaign.id):
        return None
    total = client.campaign_info().short_report.total_numbers
    # Asked again after the server's answer: a sharing run that passed the check first records
    # it before its first request, so numbers it has sent since never look unknown to us.
    if ledger.campaigns.checked(campaign.id):
        return None
    if total > 0 and not new_ledger:
        where = ledger.store.shown_url
        raise UnknownNumbersError(
            f"the ledger {where} has never sent to this campaign, but the campaign already "
            f"holds {total} number(s) on the server. If this tool sent them with another "
            f"ledger (deleted, or another working directory or host), uploading with this one "
            f"would call those people again. Nothing was sent. Point ledger.url (or --ledger) "
            f"at the ledger that sent them (a relative SQLite path is relative to the config "
            f"file), or, if you are sure they came from elsewhere, run again with --new-ledger."
        )
    if not ledger.campaigns.record_check(
        campaign.id, total_numbers=total, accepted=new_ledger, run_id=run_id
    ):
        return None  # another run recorded the check meanwhile
    if total:
        return (
            f"new ledger accepted (--new-ledger): the campaign already held {total} number(s) "
            f"this ledger did not send"
        )
    return None


class _Control(Protocol):
    @property
    def stopped(self) -> bool: ...

    def stop(self, error: PipelineError) -> None: ...


class SendGate:
    """The check as the dispatcher's ``may_send``: True once the campaign passed it.

    ``campaign info`` is a read, so a transient failure is retried with the run's backoff
    within its budget; when the question cannot be answered (or the answer is no) the run
    stops with that error and nothing is sent.
    """

    def __init__(
        self,
        ledger: Ledger,
        campaign: Campaign,
        client: Callable[[], CallsApiClient],
        *,
        run_id: int,
        new_ledger: bool,
        retry: RetryPolicy,
        budget: Budget,
        sleep: Callable[[float], None],
        control: _Control,
    ) -> None:
        self.ledger, self.campaign, self.client = ledger, campaign, client
        self.run_id, self.new_ledger = run_id, new_ledger
        self.retry, self.budget, self.sleep, self.control = retry, budget, sleep, control
        self.passed = campaign.checked
        self.notes: list[str] = []

    def __call__(self) -> bool:
        attempt = 0
        while not self.passed:
            if self.control.stopped:
                return False
            attempt += 1
            try:
                note = check_campaign(
                    self.ledger,
                    self.campaign,
                    self.client(),
                    run_id=self.run_id,
                    new_ledger=self.new_ledger,
                )
            except TransientApiError as exc:
                wait = self.retry.wait(attempt=attempt, error=exc)
                if wait is None or not self.budget.allows(wait):
                    self.control.stop(exc)
                    return False
                self.sleep(wait)
                continue
            except PipelineError as exc:
                self.control.stop(exc)
                return False
            self.passed = True
            if note:
                self.notes.append(note)
        return True
