"""The ledger's state transitions, one room per step of the protocol; each room is an
attribute of :class:`~pipeline.ledger.Ledger` named like its module.

``campaigns`` → ``runs`` → ``inputs`` → ``planning`` (values from :mod:`.rows`) →
``freezing`` (batches from :mod:`.batches`, bodies from :mod:`.bodies`) → ``sending`` →
``replies`` / ``splits`` → ``reconciling``; then ``outcomes`` (``results``) and ``cancels``.
"""
