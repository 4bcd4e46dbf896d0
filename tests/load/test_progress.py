"""The send-progress meter when sending overlaps planning: rows sent while their file is being
planned are reported as they settle (``growing``), and the sending phase after planning goes
on counting from there."""

from __future__ import annotations

from pipeline.load.upload.progress import Meter, Progress


def test_rows_sent_while_planning_are_reported_as_they_go() -> None:
    seen: list[Progress] = []
    meter = Meter(seen.append)
    meter.start_sending(0)  # old work: nothing
    meter.more(10)  # launched while the file is planned ...
    meter.sent(5)
    meter.sent(5)
    meter.more(5)
    meter.planned(15, "export.csv")
    assert seen == [
        Progress("send", 0, 0),
        Progress("send", 0, 10, growing=True),
        Progress("send", 5, 10, growing=True),
        Progress("send", 10, 10, growing=True),
        Progress("plan", 15, None, "export.csv"),
    ]
    meter.start_sending(5)  # ... then the sending phase: 5 rows still waiting
    meter.sent(5)
    assert seen[5:] == [Progress("send", 10, 15), Progress("send", 15, 15)]


def test_without_overlap_the_meter_counts_as_it_goes() -> None:
    seen: list[Progress] = []
    meter = Meter(seen.append)
    meter.start_sending(4)
    meter.sent(2)
    meter.sent(2)
    assert seen == [Progress("send", 0, 4), Progress("send", 2, 4), Progress("send", 4, 4)]
