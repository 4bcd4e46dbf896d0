"""The time-zone preview of a dry run, in the spirit of Genesys's time-zone mapping preview:
how many rows got one zone and from where, how many are on the fallback, how many were
rejected for having none, and the zones that come up most.

Usage::

    for line in zone_preview_lines(summary.zones, summary.reasons):
        print(line)
    # time zones: 9 rows with a zone
    #   from the gmtZone column   2
    #   from the number's prefix  3   (area codes, one-zone countries)
    #   ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

TOP_ZONES = 5
_SOURCES = (
    ("column", "from the gmtZone column"),
    ("policy", "from the fixed policy.gmtZone"),
    ("number_prefix", "from the number's prefix (area code; one-zone country)"),
    ("mobile_range", "from the Russian mobile range"),
    ("fallback", "on the fallback zone"),
)


def zone_preview_lines(
    zones: Mapping[tuple[str, str], int], reasons: Mapping[str, int], *, top: int = TOP_ZONES
) -> list[str]:
    """Lines of the preview; none when no zone was decided and none rejected for lack of one.

    ``zones`` maps (source, zone) to rows (accepted rows, duplicates inside the file included);
    ``reasons`` the rejection counts by reason code.
    """
    unknown = reasons.get("timezone_unknown", 0)
    if not zones and not unknown:
        return []
    by_source: Counter[str] = Counter()
    by_zone: Counter[str] = Counter()
    for (source, zone), count in zones.items():
        by_source[source] += count
        by_zone[zone] += count
    lines = [f"time zones: {sum(by_source.values())} rows with a zone"]
    width = max(len(text) for _, text in _SOURCES)
    for source, text in _SOURCES:
        if by_source[source]:
            lines.append(f"  {text:<{width}}  {by_source[source]}")
    if unknown:
        lines.append(f"  {'rejected: no zone (timezone_unknown)':<{width}}  {unknown}")
    lines.append("  top zones: " + ", ".join(f"{z} {n}" for z, n in by_zone.most_common(top)))
    return lines
