"""Alembic environment: runs on the connection the ledger hands over (no alembic.ini needed).

The ledger opens the engine itself (file mode, pragmas) and calls
``alembic.command.upgrade`` with ``config.attributes["connection"]`` set.
"""

from __future__ import annotations

from alembic import context

from pipeline.ledger.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "pipeline/ledger/store/migrations is run by pipeline.ledger.open_ledger(); "
        "pass a connection in config.attributes['connection']."
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
