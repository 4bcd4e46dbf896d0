"""Who may write a campaign's batches: its one lease holder, or several sharing workers.

:mod:`.holders` (:class:`~.holders.Holder` — a Lease or a Worker — and the fence every write
passes), :mod:`.leases` (``ledger.leases``), :mod:`.workers` (``ledger.workers``), :mod:`.claims`
(which holder works on a batch, and the checks an outcome must pass).
"""
