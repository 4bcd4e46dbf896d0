# ruff: noqa: RUF001, RUF002 - the source table is in Russian
"""Build ``ru_mobile_zones.tsv`` (Russian mobile prefix → IANA zone(s)) from ru-phone-parser.

Not run at row time: the table is committed. Re-run it when a newer prefix table appears::

    pip download ru-phone-parser --no-deps -d /tmp/rpp && unzip -o /tmp/rpp/*.whl -d /tmp/rpp/x
    python -m pipeline.transform.data.build_ru_mobile /tmp/rpp/x/phoneparser/data/data.json

Each source entry is a code (``+7 916 12``), an operator and a region text. The region text is
matched against ``ru_region_zones.tsv`` (every stem found counts, so "Москва, Тюменская
область" gives two zones); a text with no known stem ("Россия", "Все", a federal district
that spans zones) gives ``?``. Entries of one code are merged (union of zones; ``?`` wins), and
zones that keep the same local time (Moscow, Kirov, Volgograd) count as one.
Then entries that resolve exactly like their nearest shorter prefix are dropped, which keeps
every number's answer and a tenth of the lines.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
UNKNOWN = "?"


def region_stems() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """The hand-written region table as (word-start pattern, zones)."""
    out = []
    for line in (HERE / "ru_region_zones.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        stem, zones = line.split("\t")
        out.append((re.compile(r"(?<![а-яё])" + re.escape(stem)), tuple(zones.split(","))))
    return out


def zones_of(region: str, stems: list[tuple[re.Pattern[str], tuple[str, ...]]]) -> str:
    found: set[str] = set()
    for pattern, zones in stems:
        if pattern.search(region.casefold()):
            found.update(zones)
    return ",".join(sorted(found)) if found else UNKNOWN


# Instants at which two zones must agree to count as one clock: both seasons of the build
# year and the next (Russia keeps no DST since 2014, so this merges e.g. Moscow and Kirov).
_PROBES = [datetime(2026 + y, m, 15, 12, tzinfo=UTC) for y in (0, 1) for m in (1, 7)]


def same_clock(zones: set[str]) -> list[str]:
    """The zones, with those that keep the same local time as another listed one dropped
    (Europe/Moscow preferred, then alphabetical): a call window reads the same in both."""
    kept: list[str] = []
    for zone in sorted(zones, key=lambda z: (z != "Europe/Moscow", z)):
        offsets = [p.astimezone(ZoneInfo(zone)).utcoffset() for p in _PROBES]
        if not any(
            offsets == [p.astimezone(ZoneInfo(k)).utcoffset() for p in _PROBES] for k in kept
        ):
            kept.append(zone)
    return sorted(kept)


def build(source: Path) -> dict[str, str]:
    stems = region_stems()
    merged: dict[str, set[str]] = {}
    for entry in json.loads(source.read_text(encoding="utf-8"))[1:]:  # [0] is the header
        code = re.sub(r"\D", "", entry.get("Код", ""))
        if not code.startswith("79"):
            continue
        zones = zones_of(entry.get("Регион", ""), stems)
        merged.setdefault(code, set()).update(zones.split(","))
    table = {
        code: UNKNOWN if UNKNOWN in zones else ",".join(same_clock(zones))
        for code, zones in merged.items()
    }

    def parent(code: str) -> str:
        for size in range(len(code) - 1, 0, -1):
            if code[:size] in table:
                return table[code[:size]]
        return UNKNOWN

    return {code: z for code, z in sorted(table.items()) if z != parent(code)}


def main(argv: list[str]) -> None:
    table = build(Path(argv[1]))
    lines = [f"{code}\t{zones}" for code, zones in table.items()]
    (HERE / "ru_mobile_zones.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} prefixes written")


if __name__ == "__main__":
    main(sys.argv)
