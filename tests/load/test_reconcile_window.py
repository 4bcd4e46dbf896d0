"""The adoption window's lower bound: reconciliation never adopts a job created before the
batch's first send (less the clock-skew allowance ``key_safety_margin_s``) — such a job was
made by something else (an earlier campaign load, a hand-added number), and adopting it would
leave the row without its own call.

The scene: the campaign already had a job for phone 0, created ``before`` seconds before our
batch with phone 0 was first sent; that batch's request was lost before the server committed
it (no job of ours), and its key expired. Reconciliation must re-send phone 0 unless the old
job lies within the skew allowance (then it is the only candidate and is adopted, as the
module documents).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pipeline.emulator import Emulator
from pipeline.errors import ExitCode
from pipeline.ledger import open_ledger
from tests.conftest import phone
from tests.load.conftest import Uploader, jobs_per_phone

DAY_AND_AN_HOUR = 25 * 3600
SKEW_S = 3600  # upload.key_safety_margin_s, the allowance for the two clocks' difference


def _advance(uploader: Uploader, emulator: Emulator, seconds: float) -> None:
    emulator.advance(seconds)  # the server's clock and ours move together
    uploader.clock.advance(seconds)


@pytest.mark.parametrize(
    ("before_s", "adopted"),
    [(3 * 86_400, False), (SKEW_S + 60, False), (SKEW_S - 60, True)],
    ids=["three-days-before", "just-outside-the-skew", "within-the-skew"],
)
def test_a_job_older_than_the_first_send_is_not_adopted(
    uploader: Uploader,
    emulator: Emulator,
    campaign: dict[str, Any],
    before_s: float,
    adopted: bool,
) -> None:
    # The ledger has sent to this campaign before (an ordinary night).
    assert uploader.run(uploader.csv(1, start=100)).exit_code == ExitCode.OK
    url = f"{emulator.base_url}/api/calls/campaign/{campaign['token']}/addPhones"
    old = requests.post(url, json=[{"phone": phone(0)}], timeout=5)
    assert old.status_code == 200
    (old_job,) = [str(j) for j in old.json()]
    _advance(uploader, emulator, before_s)

    emulator.set_faults([{"kind": "drop_before_commit", "endpoint": "addPhones", "times": 1}])
    lost = uploader.run(uploader.csv(10), max_attempts_per_request=1)
    assert (lost.exit_code, lost.pending) == (ExitCode.PENDING, 10), lost.lines()
    emulator.clear_faults()
    _advance(uploader, emulator, DAY_AND_AN_HOUR)

    settled = uploader.run(key_safety_margin_s=SKEW_S)
    assert settled.exit_code == ExitCode.OK, settled.lines()
    assert (settled.adopted, settled.refreshed) == ((1, 9) if adopted else (0, 10))
    jobs = jobs_per_phone(emulator, campaign["id"])
    assert jobs[phone(0)] == (1 if adopted else 2)
    with open_ledger(uploader.ledger_url) as ledger, ledger.store.engine.connect() as conn:
        (job_of_row,) = conn.exec_driver_sql(
            f"SELECT job_id FROM rows WHERE phone = '{phone(0)}'"
        ).scalars()
    assert (job_of_row == old_job) is adopted
