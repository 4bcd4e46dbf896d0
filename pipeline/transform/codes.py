"""Stable reason codes of rejected rows (documented in README "Reason codes").

They are data: rejects files, the ledger and dashboards key on them, so a code is never
renamed; new situations get new codes.
"""

from __future__ import annotations

EMPTY_ROW = "empty_row"  # every cell of the record is empty
EXTRA_CELLS = "extra_cells"  # non-empty cells beyond the header: the columns may be shifted
PHONE_MISSING = "phone_missing"  # the phone cell is empty
PHONE_LOSSY = "phone_lossy"  # digits already lost: 7,91612E+10, 7.9e10, ###, XXX
PHONE_INVALID = "phone_invalid"  # not a number phonenumbers accepts as valid
PHONE_TOO_SHORT = "phone_too_short"  # too few digits for the country
PHONE_TOO_LONG = "phone_too_long"  # too many digits for the country
PHONE_EXTENSION = "phone_extension"  # has an extension and phone.extensions is reject
PHONE_MULTIPLE = "phone_multiple"  # several numbers in one cell and phone.multiple is reject
PHONE_REGION = "phone_region"  # valid, but not in phone.allowed_regions
PHONE_TYPE = "phone_type"  # valid, but its type is not in phone.allowed_types
PAYLOAD_MISSING = "payload_missing"  # a required payload cell is empty
PAYLOAD_INVALID = "payload_invalid"  # a payload cell does not fit its type
PAYLOAD_AMBIGUOUS = "payload_ambiguous"  # a date that reads two ways (01/02/2024)
POLICY_INVALID = "policy_invalid"  # a per-row call-policy cell breaks the API's rules
POLICY_WINDOW = "policy_window"  # startDateTime is not before finishDateTime
POLICY_IN_PAST = "policy_in_past"  # start (or finish) lies in the past
TIMEZONE_UNKNOWN = "timezone_unknown"  # no zone from column or number; fallback is reject
WINDOW_NOT_ALLOWED = "window_not_allowed"  # the row's window is wider than the preset's
DUPLICATE = "duplicate"  # repeats an earlier row (see dedupe.key)
SUPPRESSED = "suppressed"  # the phone is on a do-not-call list (suppress.files, the ledger's)
CONTACT_CAP = "contact_cap"  # the phone had upload.contact_caps call jobs already (ledger)

ALL: tuple[str, ...] = (
    EMPTY_ROW,
    EXTRA_CELLS,
    PHONE_MISSING,
    PHONE_LOSSY,
    PHONE_INVALID,
    PHONE_TOO_SHORT,
    PHONE_TOO_LONG,
    PHONE_EXTENSION,
    PHONE_MULTIPLE,
    PHONE_REGION,
    PHONE_TYPE,
    PAYLOAD_MISSING,
    PAYLOAD_INVALID,
    PAYLOAD_AMBIGUOUS,
    POLICY_INVALID,
    POLICY_WINDOW,
    POLICY_IN_PAST,
    TIMEZONE_UNKNOWN,
    WINDOW_NOT_ALLOWED,
    DUPLICATE,
    SUPPRESSED,
    CONTACT_CAP,
)
