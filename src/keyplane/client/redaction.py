"""One redaction function for everything the client prints: errors, logs, warnings.

The first defence is never to put key material in a message; this is the second. It masks
Keyplane secrets, PEM blocks, URL passwords and request signatures (ccxt includes failed URLs in
its errors), plus any exact secret the caller knows about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
PATTERNS = re.compile(
    r"kps_[0-9A-Za-z]{8,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<=://)[^/@\s:]+:[^/@\s]+(?=@)"
    r"|(?<=signature=)[^&\s\"']+"
    r"|(?<=X-MBX-APIKEY['\"]: ['\"])[^'\"]+",
    re.DOTALL,
)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return PATTERNS.sub(REDACTED, text)
