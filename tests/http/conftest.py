"""Keys issued through the real CLI for tests against a running server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.server import Instance


def issue_key(
    server: Instance, *args: str, user: str = "alice", public_key: str | None = None, tmp: Path | None = None
) -> dict[str, str]:
    extra: list[str] = []
    if public_key is not None:
        assert tmp is not None
        pem = tmp / f"pub-{len(list(tmp.glob('pub-*')))}.pem"
        pem.write_text(public_key)
        extra = ["--public-key", str(pem)]
    result = server.cli("keys", "create", "--user", user, "--json", *args, *extra)
    return json.loads(result.stdout)  # type: ignore[no-any-return]
