"""The one exception tree of jaicp-pipeline.

Every error the library raises on purpose is a :class:`PipelineError`; third-party exceptions
(requests, SQLAlchemy, pydantic, file readers) are translated into it at the module that talks
to the third party, so callers never need to know which library failed.

::

    PipelineError                      exit code 1 unless a subclass says otherwise
    ├── RunStoppedError                3  SIGTERM/SIGHUP (or the caller) stopped the run in order
    │   └── RunInterruptedError      130  the same for SIGINT (Ctrl-C)
    ├── ConfigError                    4  config file/key/env is wrong (also a missing token)
    │   ├── UnknownNumbersError            a new ledger for a campaign that already has numbers
    │   └── CampaignNotRunningError        the campaign refuses new numbers: start or resume it
    ├── InputFileError                 6  an input file cannot be read or lacks mapped columns
    │   ├── RejectRatioError           8  more of a file's rows rejected than max_reject_ratio
    │   └── EmptyFileError             9  a file has no data rows and upload.empty_file is fail
    ├── WorkerError                    1  a forked reader process ended before finishing its part
    ├── OutputFileError                1  a report or results file cannot be created or written
    │   └── OutputFormatError          2  an output file name whose suffix says no format we write
    ├── LedgerError                    1  the ledger database failed or is inconsistent
    │   ├── LedgerUnavailableError     3  out of reach for now (connection lost, file locked by
    │   │                                 another program, disk full): run again later
    │   ├── LedgerDamagedError         7  the ledger file is damaged: restore its backup
    │   ├── LeaseHeldError             5  another run holds the campaign's lease
    │   ├── StaleLeaseError            5  our lease was taken over; our write was refused
    │   └── KeyExpiredError            1  a batch's request key may have expired: reconcile it
    └── ApiError                       1  talking to the Calls API failed
        ├── TransientApiError          3  may succeed if retried with the same key and body
        │   ├── ApiConnectionError         the connection reset or closed before a whole reply
        │   │   └── ApiNotConnectedError   refused, DNS failure, connect timeout: nothing sent
        │   ├── ApiTimeoutError            no whole reply within ``api.timeout_s``
        │   ├── ServerError                HTTP 5xx
        │   └── RateLimitedError           HTTP 429 (``retry_after`` seconds when sent)
        ├── BadRequestError            1  HTTP 400 with the server's ``type`` / ``error`` code
        │   ├── CampaignStateError         ``invalid.call.task.state`` or a refused control action
        │   └── IdempotenceConflictError   the same key was used with a different body
        ├── RequestTooLargeError       1  HTTP 413: the body is larger than the server takes
        ├── InvalidTokenError          4  HTTP 404 ``invalid.token``: unknown campaign or token
        └── UnexpectedResponseError    1  redirect, unknown status, a body we cannot parse, or
                                          a reply larger than ``api.max_reply_bytes``

Usage::

    try:
        client.add_phones(items, idempotence_key=key)
    except TransientApiError as exc:
        ...  # retry later with the same key and the same bytes
    except PipelineError as exc:
        raise SystemExit(exc.exit_code) from exc

Messages say what happened, where, and what to do next. They never contain the campaign token:
API errors carry URLs that have already been redacted (see :mod:`pipeline.redact`).
"""

from __future__ import annotations

from typing import Any


class ExitCode:
    """Process exit codes a scheduler can act on (documented in README)."""

    OK = 0
    FAILED = 1
    USAGE = 2  # click's own code for bad command-line usage
    PENDING = 3  # work is left for the next run (transient failures, budget spent)
    CONFIG = 4  # configuration or authentication problem: a human must act
    LEASE_HELD = 5  # another run holds the campaign's lease; nothing was sent
    INPUT = 6  # an input file is unreadable or lacks the mapped columns
    VERIFY_FAILED = 7  # the ledger cannot be trusted: a broken invariant, or a damaged file
    REJECT_RATIO = 8  # a file's rejected share is above upload.max_reject_ratio; nothing sent
    EMPTY_FILE = 9  # a file has no data rows and upload.empty_file is fail
    INTERRUPTED = 130  # stopped in order by Ctrl-C (SIGINT): the shell's 128 + 2


class PipelineError(Exception):
    """Base of every error raised on purpose by jaicp-pipeline."""

    exit_code: int = ExitCode.FAILED


class RunStoppedError(PipelineError):
    """A signal (TERM, HUP) or the caller asked the run to stop: nothing new was sent after it,
    what was on the wire is recorded, the rest waits for the next run (safe to re-run)."""

    exit_code = ExitCode.PENDING


class RunInterruptedError(RunStoppedError):
    """:class:`RunStoppedError` by Ctrl-C (SIGINT): exit 130, as a shell reports Ctrl-C."""

    exit_code = ExitCode.INTERRUPTED


class ConfigError(PipelineError):
    """The configuration (file, key, environment variable) is invalid or missing."""

    exit_code = ExitCode.CONFIG


class UnknownNumbersError(ConfigError):
    """The ledger has never sent to this campaign, but the campaign holds numbers on the server.

    Uploading with this ledger could call those people again (a lost or second ledger): a
    human must point the config at the right ledger or accept the new one (``--new-ledger``).
    """


class CampaignNotRunningError(ConfigError):
    """The campaign refuses new jobs (stopped, finished): a human must act (exit 4)."""


class InputFileError(PipelineError):
    """An input file cannot be read, or it lacks a column the config maps."""

    exit_code = ExitCode.INPUT


class RejectRatioError(InputFileError):
    """More of a file's data rows would be rejected than ``upload.max_reject_ratio`` allows
    (a wrong column mapping rejects them all): the run stopped before its first request."""

    exit_code = ExitCode.REJECT_RATIO


class EmptyFileError(InputFileError):
    """A file has no data rows (a header at most) and ``upload.empty_file`` is ``fail``."""

    exit_code = ExitCode.EMPTY_FILE


class WorkerError(PipelineError):
    """A forked reader process (:mod:`pipeline.extract.forked`) ended without finishing its
    part of the file; the message says how to read it in this process instead."""


class OutputFileError(PipelineError):
    """An output file (report) cannot be created or written."""


class OutputFormatError(OutputFileError):
    """An output path whose suffix names no format we write (``results --out x.pdf``): a
    command-line mistake, refused before any work, with click's usage exit code."""

    exit_code = ExitCode.USAGE


class LedgerError(PipelineError):
    """The ledger database failed, or its content breaks an invariant."""


class LedgerUnavailableError(LedgerError):
    """The ledger database is out of reach for now: the connection was lost, another program
    keeps the SQLite file locked past the busy wait, the disk is full, an I/O error.

    The failed transaction was rolled back, so nothing was recorded that did not happen; the
    run stops with work left (exit 3) and the next one resumes. Raised by
    :mod:`pipeline.ledger.store.failures`, the one place that reads the drivers' errors.
    """

    exit_code = ExitCode.PENDING


class LedgerDamagedError(LedgerError):
    """The ledger file is damaged (not a database, malformed pages, failed integrity check):
    it cannot be trusted to know what was sent. Restore its backup, or start a new ledger
    knowingly (``upload --new-ledger``)."""

    exit_code = ExitCode.VERIFY_FAILED


class LeaseHeldError(LedgerError):
    """Another run holds the lease for this campaign; this run must not send."""

    exit_code = ExitCode.LEASE_HELD


class StaleLeaseError(LedgerError):
    """Our lease expired and another run took it over; our write was refused (fencing)."""

    exit_code = ExitCode.LEASE_HELD


class KeyExpiredError(LedgerError):
    """A batch's request key may have expired on the server; it must be reconciled, not resent."""


class ApiError(PipelineError):
    """A Calls API request failed.

    ``url`` is always redacted (the token replaced by ``***``); ``status`` is the HTTP status
    when a reply arrived; ``body`` is the parsed JSON error body when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.body = body


class TransientApiError(ApiError):
    """A failure that may go away: retry with the same key and byte-identical body."""

    exit_code = ExitCode.PENDING

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.retry_after = retry_after


class ApiConnectionError(TransientApiError):
    """The connection failed or was closed before a complete reply arrived.

    The request may have reached the server and taken effect: only the same key and the same
    bytes may be sent again.
    """


class ApiNotConnectedError(ApiConnectionError):
    """No connection was made (refused, DNS failure, connect timeout): no byte of the request
    reached the server, so this attempt cannot have taken effect."""


class ApiTimeoutError(TransientApiError):
    """No whole reply arrived within the request's deadline (``api.timeout_s``)."""


class ServerError(TransientApiError):
    """The server answered with HTTP 5xx."""


class RateLimitedError(TransientApiError):
    """The server answered with HTTP 429; ``retry_after`` holds its ``Retry-After`` in seconds."""


class BadRequestError(ApiError):
    """HTTP 400: the server refused the request and created nothing.

    ``error_type`` is the server's machine code (``type`` or ``error`` field, e.g.
    ``phone.bad.format``); ``phone`` is the offending phone when the server named one.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = 400,
        body: Any = None,
        error_type: str = "",
        phone: str | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.error_type = error_type
        self.phone = phone


class CampaignStateError(BadRequestError):
    """The campaign's state forbids the request (stopped campaign, illegal control action)."""


class IdempotenceConflictError(BadRequestError):
    """The idempotence key was already used with a different request body."""


class RequestTooLargeError(ApiError):
    """HTTP 413: the server refused the request body as too large and processed nothing."""


class InvalidTokenError(ApiError):
    """HTTP 404 ``invalid.token``: the campaign token is unknown, or the campaign was deleted."""

    exit_code = ExitCode.CONFIG


class UnexpectedResponseError(ApiError):
    """A reply we cannot interpret: a redirect, an undocumented status, or a malformed body."""
