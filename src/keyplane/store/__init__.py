"""Storage: SQLAlchemy tables, repositories, Alembic migrations and engine set-up.

Nothing here imports the domain packages; repositories speak in plain rows and dataclasses
so that ``keys``, ``identity`` and ``exchange`` can depend on storage and not the reverse.
"""
