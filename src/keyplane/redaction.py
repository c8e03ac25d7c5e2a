"""The one redaction function used by logs, error messages and configuration dumps."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

SECRET_FIELD = re.compile(
    r"(secret|password|master_key|private|token|signature|totp|recovery)", re.IGNORECASE
)
# Anything that looks like a Keyplane secret or a URL password.
SECRET_VALUE = re.compile(r"kps_[0-9A-Za-z]{20,}|(?<=://)[^/@\s:]+:[^/@\s]+(?=@)")
REDACTED = "***"


def redact_text(text: str) -> str:
    """Mask Keyplane secrets and URL credentials wherever they appear in free text."""
    return SECRET_VALUE.sub(REDACTED, text)


def redact(value: Any, field: str = "") -> Any:
    """Return a copy of ``value`` that is safe to print: secret fields and secret-looking strings masked."""
    if isinstance(value, SecretStr):
        return REDACTED
    if field and SECRET_FIELD.search(field) and value not in (None, ""):
        return REDACTED
    if isinstance(value, dict):
        return {key: redact(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
