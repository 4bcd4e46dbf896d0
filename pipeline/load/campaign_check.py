"""The new-ledger check: a ledger that has never sent to a campaign does not send to one that
already holds numbers, unless the operator says so.

Usage::

    note = check_campaign(ledger, campaign, client, run_id=run_id, new_ledger=False)
    # raises UnknownNumbersError (exit 4) before anything is sent, or returns a line for the
    # summary the first time the campaign passes (None when it had passed before)

Why: a deleted ledger, or a second one by mistake (another working directory, another host's
copy of the config), does not know what was sent. Derived request keys make the same batches
replay on the server for 24 hours, but a changed file or a later night would call everyone
again. ``campaign info`` tells whether the campaign holds numbers at all (``totalNumbers``);
a campaign the ledger already knows is not asked again.
"""

from __future__ import annotations

from pipeline.api import CallsApiClient
from pipeline.errors import UnknownNumbersError
from pipeline.ledger import Campaign, Ledger


def check_campaign(
    ledger: Ledger,
    campaign: Campaign,
    client: CallsApiClient,
    *,
    run_id: int,
    new_ledger: bool,
) -> str | None:
    """Let uploads send to ``campaign`` or raise :class:`UnknownNumbersError` (see module)."""
    if campaign.checked or ledger.campaign_checked(campaign.id):
        return None
    total = client.campaign_info().short_report.total_numbers
    # Asked again after the server's answer: a sharing run that passed the check first records
    # it before its first request, so numbers it has sent since never look unknown to us.
    if ledger.campaign_checked(campaign.id):
        return None
    if total > 0 and not new_ledger:
        where = ledger.engine.url.render_as_string(hide_password=True)
        raise UnknownNumbersError(
            f"the ledger {where} has never sent to this campaign, but the campaign already "
            f"holds {total} number(s) on the server. If this tool sent them with another "
            f"ledger (deleted, or another working directory or host), uploading with this one "
            f"would call those people again. Nothing was sent. Point ledger.url (or --ledger) "
            f"at the ledger that sent them (a relative SQLite path is relative to the config "
            f"file), or, if you are sure they came from elsewhere, run again with --new-ledger."
        )
    if not ledger.record_campaign_check(
        campaign.id, total_numbers=total, accepted=new_ledger, run_id=run_id
    ):
        return None  # another run recorded the check meanwhile
    if total:
        return (
            f"new ledger accepted (--new-ledger): the campaign already held {total} number(s) "
            f"this ledger did not send"
        )
    return None
