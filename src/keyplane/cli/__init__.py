"""The ``keyplane`` command.

A client-only install (``pip install keyplane`` without the ``server`` extra) lacks the server's
libraries; the command then offers the client's commands alone.
"""

try:
    from keyplane.cli.main import app
except ModuleNotFoundError as missing:  # pragma: no cover - exercised only without the server extra
    if (missing.name or "").split(".")[0] not in {
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "redis",
        "pydantic",
        "pydantic_settings",
        "jinja2",
        "pyotp",
        "segno",
        "zxcvbn",
        "bip_utils",
        "multipart",
    }:
        raise
    from keyplane.client.cli import app

__all__ = ["app"]
