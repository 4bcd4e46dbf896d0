"""The ledger's store: where its data lives and how a write is made.

:mod:`.schema` (the tables; :mod:`.migrations` must produce exactly these), :mod:`.engine`
(opening a URL: file 0600, pragmas, migrations), :mod:`.failures` (driver errors told as what
they mean), :mod:`.states` (the row and batch state machines), :mod:`.keys` (fingerprints, row
and request keys, canonical JSON), :mod:`.database` (:class:`~.database.Store`: a transaction,
the clock, audit events) and :mod:`.bulk` (many rows in one statement). Outside
:mod:`pipeline.ledger` nothing imports the schema or SQLAlchemy (``tests/test_architecture.py``).
"""
