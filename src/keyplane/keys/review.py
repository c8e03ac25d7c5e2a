"""Review of unused, old and risky keys, and enforcement of the platform rules.

Rules (numbers from ``PlatformRules``): a ``trade`` key without an IP allowlist loses ``trade`` after
``trade_without_ip_days``; a key unused for ``unused_key_days`` (counted from creation when never
used) is disabled. Findings are facts for a person; ``apply`` enforces only the two rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyplane.keys.model import ApiKey, KeyStatus, Permission
from keyplane.keys.service import Actor, KeyService

DAY_MS = 86_400_000
OLD_KEY_DAYS = 365


@dataclass(frozen=True)
class Finding:
    key_id: str
    user_id: int
    label: str
    issue: str
    detail: str


def findings_for(key: ApiKey, service: KeyService, now_ms: int) -> list[Finding]:
    if key.status is KeyStatus.REVOKED:
        return []
    rules = service.rules
    found: list[Finding] = []

    def add(issue: str, detail: str) -> None:
        found.append(Finding(key.key_id, key.user_id, key.label, issue, detail))

    idle_since = key.last_used_at or key.created_at
    idle_days = (now_ms - idle_since) // DAY_MS
    if key.status is KeyStatus.ACTIVE and idle_days >= rules.unused_key_days:
        add("unused", f"not used for {idle_days} days (rule: disable after {rules.unused_key_days})")
    if (now_ms - key.created_at) // DAY_MS >= OLD_KEY_DAYS:
        add("old", f"created {(now_ms - key.created_at) // DAY_MS} days ago; consider rotating it")
    if not key.ip_allowlist:
        add("no_ip_allowlist", "any IP address may use this key")
        if Permission.TRADE in key.permissions and key.trade_since is not None:
            days = (now_ms - key.trade_since) // DAY_MS
            if days >= rules.trade_without_ip_days:
                add(
                    "trade_without_ip",
                    f"can trade without an IP allowlist for {days} days "
                    f"(rule: trade removed after {rules.trade_without_ip_days})",
                )
    if Permission.WITHDRAW in key.permissions:
        add("can_withdraw", "this key can withdraw funds")
    return found


def review(service: KeyService, now_ms: int) -> list[Finding]:
    return [finding for key in service.list() for finding in findings_for(key, service, now_ms)]


def apply_rules(service: KeyService, now_ms: int) -> list[Finding]:
    """Enforce the platform rules; return what was done, one finding per action."""
    actor = Actor("platform-rules")
    done = []
    for finding in review(service, now_ms):
        if finding.issue == "trade_without_ip":
            key = service.get(finding.key_id)
            service.edit(key.key_id, actor, permissions=key.permissions - {Permission.TRADE})
            done.append(Finding(key.key_id, key.user_id, key.label, "trade_removed", finding.detail))
        elif finding.issue == "unused":
            service.disable(finding.key_id, actor, reason=f"unused for {service.rules.unused_key_days} days")
            done.append(Finding(finding.key_id, finding.user_id, finding.label, "disabled", finding.detail))
    return done
