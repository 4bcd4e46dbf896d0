"""The text of a drafted config: every key of configs/example.yaml, commented.

The ``input:``, ``columns:`` and ``phone:`` sections come from the file (what was detected,
what was mapped and why, what was left out); the other sections are the defaults, written
out as configs/example.yaml writes them so the user sees every setting in one place.
Strings are written as JSON strings (valid YAML double-quoted scalars), so a header holding
``:``, ``#`` or quotes stays one value.

Usage::

    text = render_config(mapping, info, export_name="export.csv", notes=table.notes)
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from pipeline.front.draft.column_choice import Choice, Mapping
from pipeline.records import SourceInfo
from pipeline.version import __version__

_NAMES = {"\t": "tab", ",": '","', ";": '";"', "|": '"|"'}


def q(text: str) -> str:
    """``text`` as a YAML scalar on one line."""
    return json.dumps(text, ensure_ascii=False)


def render_config(
    mapping: Mapping,
    info: SourceInfo,
    *,
    export_name: str,
    config_name: str = "THIS_FILE",
    notes: Sequence[str] = (),
    sheet_chosen: bool = False,
) -> str:
    """The whole config file for ``mapping`` of the file ``info`` describes."""
    parts = [
        _head(mapping, info, export_name, config_name, notes),
        _API_LEDGER,
        _input(info, sheet_chosen=sheet_chosen),
        _columns(mapping),
        _phone(mapping),
        _REST,
    ]
    return "\n".join(parts)


def _head(
    mapping: Mapping, info: SourceInfo, export_name: str, config_name: str, notes: Sequence[str]
) -> str:
    what = info.format.upper()
    if info.format == "csv":
        delimiter = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}.get(
            info.delimiter or "", repr(info.delimiter)
        )
        what = f"CSV, {info.encoding}, delimiter {delimiter}"
    elif info.sheet is not None:
        what = f"{what}, sheet {q(info.sheet)}"
    lines = [
        f"# Drafted by `jaicp-pipeline init` ({__version__}) from {q(export_name)}:",
        f"# {what}; header on {'line' if info.format == 'csv' else 'row'} {info.header_row}; "
        f"{mapping.sampled} data row(s) looked at.",
        *(f"#   {line}" for note in notes for line in textwrap.wrap(note, 90)),
        "# Check the columns: section (each mapped column says why it was chosen; the columns",
        "# left out are listed below it), then try it without sending anything:",
        f"#   jaicp-pipeline validate --config {q(config_name)} {q(export_name)}",
        "# The campaign token is never written here: the tool reads it from the environment",
        "# variable JAICP_TOKEN only. Keep it in a file only you can read and export it where the",
        '# tool runs, e.g. in the cron wrapper: export JAICP_TOKEN="$(cat ~/.config/jaicp/token)"',
        "# Every key is explained in configs/example.yaml; this draft: docs/init.md.",
        "version: 1",
        "",
    ]
    return "\n".join(lines)


def _input(info: SourceInfo, *, sheet_chosen: bool) -> str:
    encoding = f"# detected: {info.encoding}" if info.encoding else "# (CSV only)"
    delimiter = (
        f"# detected: {_NAMES.get(info.delimiter, info.delimiter)}"
        if info.delimiter
        else "# (CSV only)"
    )
    sheet = f"# read: {q(info.sheet)} (the first sheet)" if info.sheet else "# (workbooks only)"
    sheet_value = "null"
    if sheet_chosen and info.sheet is not None:
        sheet_value = q(info.sheet)
        sheet = "# the first sheet holding phone numbers (the sheets before it hold none)"
    where = "line" if info.format == "csv" else "sheet row"
    below = ", below title lines" if info.header_row > 1 else ""
    header = f"#   mapped column names ({where} {info.header_row} in this file{below})"
    return f"""input:
  # "auto" detects from each file, so the next export is read even if it differs a little.
  encoding: auto           {encoding}
  delimiter: auto          {delimiter}
  sheet: {sheet_value:<17}{sheet}
  chunk_size: 10000        # rows handed on at a time; memory stays flat as files grow
  xlsx_engine: auto        # auto (python-calamine, openpyxl if calamine cannot open the file)
                           #   | calamine | openpyxl
  header_row: null         # null: searched for among the first 20 non-blank rows by the
                           {header}
  skip_rows: 0             # or: skip this many lines/rows, then the first non-blank is the header
  # Bounds on one file, checked before it costs memory; a file beyond one is refused whole
  # (exit 6) with a message naming the setting to raise.
  max_cell_chars: 32767    # characters in one cell (Excel's own limit)
  max_columns: 1000        # cells in one CSV record; columns an XLSX sheet's cells span
  max_record_chars: 1048576  # CSV: characters of one record
  max_cells: 10000000      # XLSX: rows x columns of the rectangle the sheet's cells span
  max_xlsx_mb: 512         # XLSX/ODS/XLSB, .csv.gz, .zip: uncompressed size of all parts, MiB
  max_xlsx_ratio: 100      # same: compression ratio allowed for a part of 1 MiB or more
  max_xlsx_members: 10000  # same: parts (files) inside the archive
"""


def _columns(mapping: Mapping) -> str:
    lines = [
        "columns:",
        "  # Header names are matched ignoring case, surrounding spaces and a BOM.",
        "  # phone: the first column holding a callable number is used, row by row.",
        "  phone:",
    ]
    lines += [f"    - {q(c.header)}  # {c.why}" for c in mapping.phones]
    lines.append("  # payload: field → header, or {column: header, type: T, required: bool};")
    lines.append("  #   types: string|int|decimal|date|datetime|bool")
    lines += _fields("payload", mapping.payload)
    lines.append("  # policy: per-row call policy, API field → header (a non-empty cell wins)")
    lines += _fields("policy", mapping.policy)
    if mapping.unmapped:
        lines.append("  # Not mapped (add one under payload: to send it to the bot):")
        lines += [f"  #   {q(header)}: {why}" for header, why in mapping.unmapped]
    return "\n".join(lines) + "\n"


def _fields(section: str, choices: list[Choice]) -> list[str]:
    if not choices:
        return [f"  {section}: {{}}"]
    lines = [f"  {section}:"]
    for c in choices:
        value = q(c.header) if c.type == "string" else f"{{column: {q(c.header)}, type: {c.type}}}"
        lines.append(f"    {c.field}: {value}  # {c.why}")
    return lines


def _phone(mapping: Mapping) -> str:
    rules = mapping.phone_rules
    multiple = (
        "# several numbers in one cell in the samples: call the first"
        if rules.multiple == "first"
        else "# reject | first — several numbers in one cell"
    )
    extensions = (
        "# extensions in the samples: call the main line"
        if rules.extensions == "strip"
        else "# reject | strip — the main line may reach someone else"
    )
    return f"""phone:
  default_region: {rules.default_region}        # numbers without a country code are read as
                           #   this region's (most sample numbers are callable under it)
  allowed_regions: []      # regions accepted after parsing, e.g. [RU]; empty: any region
  allowed_types: [mobile, fixed_line, fixed_line_or_mobile]  # also toll_free, voip, ...
  extensions: {rules.extensions}       {extensions}
  multiple: {rules.multiple}         {multiple}
"""


_API_LEDGER = """api:
  # Host of the Calls API (JAICP cloud). JAICP_BASE_URL in the environment overrides it.
  base_url: ${JAICP_BASE_URL:-https://app.jaicp.com}
  timeout_s: 30            # deadline of one whole request, s
  connect_timeout_s: 10    # TCP/TLS connect timeout, seconds (at most timeout_s)
  ca_bundle: null          # PEM file of extra CAs (TLS is always verified)
  max_reply_bytes: 67108864  # 64 MiB; a longer reply is an error, not read
  allow_insecure_http: false # true: allow plain http:// to a host that is not this machine

ledger:
  # SQLAlchemy URL (a relative SQLite path is relative to this file);
  # PostgreSQL (postgresql+psycopg://user@host/db) when several hosts share it.
  url: sqlite:///ledger.sqlite3
"""

_REST = """policy:                    # fixed policy for every row (API names); unset: campaign's
  gmtZone: null            # e.g. "+03:00" or Europe/Moscow
  startDateTime: null      # ISO-8601 with offset, e.g. 2025-01-31T10:00:00+03:00
  finishDateTime: null     # must be after startDateTime
  allowedDays: null        # e.g. [mon, tue, wed, thu, fri]
  allowedTime: null        # e.g. {default: [{localTimeFrom: "10:00", localTimeTo: "19:00"}]}
  maxAttempts: null        # 1..50
  retryIntervalInMinutes: null  # 1..2880
  dialerPriority: null     # 1 (highest) .. 5
  allow_start_in_past: false    # rows whose startDateTime has passed are rejected unless true
  timezone: null           # each row's own zone (README "Time zones"), e.g.
  #   from: number           # column | number (column, then the number) | campaign
  #   fallback: reject       # reject (reason timezone_unknown) | a zone, e.g. Europe/Moscow
  window: null             # a named calling window (README "Calling windows"), e.g.
  #   preset: ru-230fz       # ru-230fz (law 230-FZ) | business

dedupe:
  key: phone_payload       # phone_payload | phone | none — which rows in one file are one call

upload:
  batch_size: 500                # phones per addPhones request (1 to 10000)
  concurrency: 1                 # parallel senders (1 to 32), or auto
  max_concurrency: 8             # the most senders auto may reach (1 to 32)
  max_attempts_per_request: 8    # tries of one request (same key, same bytes) per run
  backoff_base_s: 0.5            # first retry delay; doubles, with full jitter
  backoff_max_s: 30              # cap of one retry delay
  retry_after_cap_s: 120         # longest Retry-After we honour before leaving work pending
  run_budget_s: 1800             # total time one run may spend retrying
  key_safety_margin_s: 3600      # keys live 24 h on the server; stop reusing them this early
  repeat_window_s: 604800        # same row sent to this campaign within 7 days → duplicate
  allow_repeats: false           # true: identical rows are called again (intended repeats)
  share_work: null               # null: shared on PostgreSQL, one run at a time on SQLite
  lease_ttl_s: 120               # a killed/frozen run holds its batches this long at most
  contact_caps: null             # e.g. {day: 1, week: 2, month: 8, timezone: Europe/Moscow}
  max_reject_ratio: null         # e.g. 0.2: over 20 % of a new file rejected → exit 8
  empty_file: warn               # a file with no data rows: warn, or fail (exit 9)

suppress:                        # do-not-call lists besides the ledger's own
  files: []                      # CSV/XLSX lists (relative to this file)
  column: phone                  # their phone column (or their only column)
  opt_out_results: []            # call results `results` puts on the ledger's list

inbox:                           # upload --inbox DIR: every new export of the folder, oldest first
  settle_s: 10                   # take a file once its size and time stayed the same this long
  ignore: []                     # more name patterns never taken (hidden, ~$*, *.part never are)

reports:
  timezone: null                 # IANA zone for times in results files; null = this machine's
  delimiter: auto                # CSV outputs: the input CSV's own or ","; or ",", ";", tab

notify:                          # optional: POST each upload run's summary as JSON
  webhook_url: null              # e.g. "${JAICP_WEBHOOK_URL}"
  timeout_s: 10                  # a slow or failing webhook only logs a warning
"""
