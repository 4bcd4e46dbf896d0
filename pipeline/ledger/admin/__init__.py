"""Administration of a ledger, behind ``jaicp-pipeline ledger …``.

:mod:`.audit` (runs, a run, a phone's history, the export: read-only), :mod:`.verify` (the
invariants the ledger can check on its own), :mod:`.purge` (retention of personal data) and
:mod:`.migrate` (copy a whole ledger into an empty database, then prove the copy).
"""
