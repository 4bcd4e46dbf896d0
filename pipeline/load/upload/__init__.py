"""The upload run, in its order: lease → finish old work → plan new files → send → summary.

Modules: :mod:`.run` (``run_upload``: the order), :mod:`.planning` (one file into the ledger),
:mod:`.prefetch` (the next chunk read while this one is inserted), :mod:`.campaign_check` (a
new ledger does not send to a campaign that holds numbers), :mod:`.progress` (progress
callbacks), :mod:`.summary` (the end-of-run summary).
"""
