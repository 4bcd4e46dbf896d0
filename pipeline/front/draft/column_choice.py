"""Choose the column mapping of a draft config from a file's header and sample rows.

The header proposes (:mod:`.known_headers`), the values decide (:mod:`.cell_kinds`):

- **phone**: every column whose sample values are mostly callable numbers, listed headers
  first in their order (mobile before landline), so the per-cell fallback tries the best one
  first; a column of phone numbers under an unlisted or misleading header (``Контакт``) is
  taken too, and a "phone" header over values that are not numbers is not. A listed phone
  header that is empty in the rows looked at stays last in the list (it costs nothing).
- **payload**: listed names of name / amount / date / other typical fields, one column per
  field (the best-ranked header wins); a type only when every sample converts to it
  (``decimal``, ``date``, ``datetime``), else ``string`` with the reason.
- **policy**: a time-zone (or call window, days, priority) column whose samples are valid
  per-row values of that API field.
- everything else is listed as unmapped, with what its values look like.

Usage::

    mapping = choose_columns(header, samples)     # samples: rows of text cells under header
    mapping.phones, mapping.payload, mapping.policy, mapping.unmapped, mapping.phone_rules
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.config import PhoneConfig
from pipeline.front.draft.cell_kinds import (
    count_fitting,
    count_fitting_policy,
    count_phones,
    describe,
    pick_phone_rules,
)
from pipeline.front.draft.known_headers import LEFT_OUT, PHONE, Role, recognise
from pipeline.records import header_key
from pipeline.transform.phones import PhoneNormalizer

# Share of a column's sample values that must be callable numbers for it to be a phone
# column: under a phone header half will do (exports mix numbers with "нет", "-"); an
# unlisted header needs most of them, and at least two, so an odd number in a notes column
# does not make it one.
LISTED_SHARE = 0.5
UNLISTED_SHARE = 0.8
_DIGIT_RUN = re.compile(r"\d[\d\s()+\-.]{5,}\d")
_ENV_REF = re.compile(r"\$\{")


@dataclass(frozen=True, slots=True)
class Choice:
    """One mapped column: its header, the payload/policy field, payload type, and why."""

    header: str
    field: str
    why: str
    type: str = "string"


@dataclass(slots=True)
class Mapping:
    """The drafted ``columns:`` and ``phone:`` sections, with the reasons for each choice."""

    phones: list[Choice] = field(default_factory=list)
    payload: list[Choice] = field(default_factory=list)
    policy: list[Choice] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (header, why not)
    phone_rules: PhoneConfig = field(default_factory=PhoneConfig)
    sampled: int = 0  # data rows looked at


@dataclass(slots=True)
class _Column:
    index: int
    header: str
    values: list[str]
    role: Role | None
    listed: bool


def choose_columns(header: Sequence[str], samples: Sequence[Sequence[str]]) -> Mapping:
    """The mapping for a file with ``header`` whose first data rows are ``samples``."""
    mapping = Mapping(sampled=len(samples))
    columns: list[_Column] = []
    for index, name in enumerate(header):
        if not name.strip():
            continue  # an unnamed column: no config can map it (the reader says so too)
        values = [row[index].strip() for row in samples if index < len(row)]
        found = recognise(name)
        role, listed = found if found else (None, False)
        column = _Column(index, name, [v for v in values if v], role, listed)
        if _ENV_REF.search(name):
            mapping.unmapped.append(
                (
                    name,
                    "its name holds '${', which the config reads as "
                    "an environment variable: rename the column to map it",
                )
            )
            continue
        columns.append(column)
    candidates = [c for c in columns if c.role is PHONE or _digit_heavy(c.values)]
    # The rules are fitted to the phone headers' values when there are any: a column of
    # dates ("01.12.2026") reads as numbers in some region, and must not pick the region.
    named = [c.values for c in candidates if c.role is PHONE and c.values]
    mapping.phone_rules = pick_phone_rules(named or [c.values for c in candidates])
    left = _choose_phones(mapping, candidates, PhoneNormalizer(mapping.phone_rules))
    taken = {c.index for c in candidates} - {c.index for c in left}
    rest = [c for c in columns if c.index not in taken]
    _choose_fields(mapping, rest)
    return mapping


def _digit_heavy(values: list[str]) -> bool:
    """Whether most values hold a run of 7+ digits and are not dates (worth trying as
    phone numbers: a dotted date reads as a German landline)."""
    if not values or sum(1 for v in values if _DIGIT_RUN.search(v)) * 2 <= len(values):
        return False
    dated = count_fitting("date", values) + count_fitting("datetime", values)
    return dated * 2 <= len(values)


def _choose_phones(
    mapping: Mapping, candidates: list[_Column], norm: PhoneNormalizer
) -> list[_Column]:
    """Fill ``mapping.phones``; return the candidates that are not phone columns."""
    chosen: list[tuple[tuple[int, int, int], Choice]] = []
    left: list[_Column] = []
    for column in candidates:
        total = len(column.values)
        good = count_phones(norm, column.values)
        share = f"{good} of {total} sample values are callable phone numbers"
        phone_header = column.role is PHONE
        if phone_header and column.listed and total == 0:
            why = f"{PHONE.source(column.header)} phone header; empty in the rows looked at"
            chosen.append(((3, PHONE.rank(column.header), column.index), _phone(column, why)))
        elif phone_header and total and good >= LISTED_SHARE * total:
            where = PHONE.source(column.header) if column.listed else "a header naming a phone"
            order = 0 if column.listed else 1
            chosen.append(
                (
                    (order, PHONE.rank(column.header), column.index),
                    _phone(column, f"{where}; {share}"),
                )
            )
        elif good >= 2 and good >= UNLISTED_SHARE * total:
            why = f"its values: {share} (the header does not say phone)"
            chosen.append(((2, 0, column.index), _phone(column, why)))
        else:
            if phone_header and total:
                mapping.unmapped.append(
                    (column.header, f"named like a phone column, but only {share}")
                )
                continue
            left.append(column)
    mapping.phones = [choice for _, choice in sorted(chosen, key=lambda item: item[0])]
    return left


def _phone(column: _Column, why: str) -> Choice:
    return Choice(column.header, "phone", why)


def _choose_fields(mapping: Mapping, columns: list[_Column]) -> None:
    """Payload and policy fields, one column each; the rest goes to ``mapping.unmapped``."""
    best: dict[str, _Column] = {}
    for column in columns:
        role = column.role
        if role is None or role is PHONE:
            continue
        held = best.get(role.field)
        if held is None or _rank(column) < _rank(held):
            best[role.field] = column
    used = {c.index: c for c in best.values()}
    for column in columns:
        role = column.role
        if column.index in used and role is not None:
            choice = _typed(role, column)
            if choice is None:
                mapping.unmapped.append((column.header, _not_fitting(role, column)))
            elif role.target == "policy":
                mapping.policy.append(choice)
            else:
                mapping.payload.append(choice)
        elif role is not None and role is not PHONE:
            winner = best[role.field].header
            mapping.unmapped.append(
                (column.header, f"also looks like {role.field}; {winner!r} was taken for it")
            )
        else:
            why = LEFT_OUT.get(header_key(column.header))
            what = describe(column.values)
            mapping.unmapped.append((column.header, f"{why} ({what})" if why else what))


def _rank(column: _Column) -> tuple[int, int, int]:
    role = column.role
    assert role is not None
    return (0 if column.listed else 1, role.rank(column.header), column.index)


def _where(role: Role, column: _Column) -> str:
    source = role.source(column.header)
    return f"{source} {role.field} header" if source else f"a header naming {role.field}"


def _typed(role: Role, column: _Column) -> Choice | None:
    """The choice for ``column`` as ``role``, typed by its samples; None when the samples
    refute the role (a policy column whose values the API would not take)."""
    values, where = column.values, _where(role, column)
    total = len(values)
    if role.target == "policy":
        good = count_fitting_policy(role.field, values)
        if total and good < total:
            return None
        why = f"{where}; " + (
            f"all {total} sample values are valid {role.field} values"
            if total
            else "empty in the rows looked at"
        )
        return Choice(column.header, role.field, why)
    if not total:
        kind = {"amount": "decimal", "date": "date"}.get(role.kind, "string")
        return Choice(column.header, role.field, f"{where}; empty in the rows looked at", kind)
    if role.kind == "amount":
        return _first_fitting(column, role.field, where, ("decimal",))
    if role.kind == "date":
        return _first_fitting(column, role.field, where, ("date", "datetime"))
    return Choice(column.header, role.field, where)


def _first_fitting(column: _Column, name: str, where: str, kinds: tuple[str, ...]) -> Choice:
    total = len(column.values)
    for kind in kinds:
        if count_fitting(kind, column.values) == total:
            return Choice(
                column.header, name, f"{where}; all {total} sample values are {kind}", kind
            )
    best = max(kinds, key=lambda k: count_fitting(k, column.values))
    good = count_fitting(best, column.values)
    why = (
        f"{where}; only {good} of {total} sample values are {best}, so it stays text: "
        f"clean the column and set type: {best}"
    )
    return Choice(column.header, name, why)


def _not_fitting(role: Role, column: _Column) -> str:
    good = count_fitting_policy(role.field, column.values)
    return (
        f"named like {role.field}, but only {good} of {len(column.values)} sample values are "
        f"valid {role.field} values"
    )
