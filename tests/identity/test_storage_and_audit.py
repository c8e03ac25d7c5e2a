from __future__ import annotations

import base64
import hashlib
import random

import pytest
from sqlalchemy import Engine, select

from keyplane.identity import IdentityService, User
from keyplane.identity.errors import InvalidCredentials, LockedOut, SealedSecretUnreadable
from keyplane.store.tables import audit_events, metadata
from tests.identity.conftest import FAST_HASHER, PASSWORD, START_MS, Clock, Sealer, code_now, enable_2fa


def all_cells(engine: Engine) -> list[object]:
    """Every value of every row of every table we know of."""
    cells: list[object] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                cells.extend(row)
    return cells


def test_no_secret_is_stored_in_plaintext(
    engine: Engine, service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, codes = enable_2fa(service, user, clock)
    session = service.log_in(user.email, PASSWORD)
    service.complete_two_factor(session.token, code_now(enrolment, clock))
    secret_forms = [enrolment.secret.encode(), base64.b32decode(enrolment.secret)]
    needles = [enrolment.secret, PASSWORD, session.token, codes[0], codes[0].replace("-", "")]
    for cell in all_cells(engine):
        if isinstance(cell, (bytes, memoryview)):
            raw = bytes(cell)
            assert not any(form in raw for form in secret_forms)
        elif isinstance(cell, str):
            assert not any(n.lower() in cell.lower() for n in needles), cell
    assert hashlib.sha256(session.token.encode()).hexdigest() in all_cells(engine)


def test_a_sealed_secret_that_does_not_unseal_is_a_clear_server_error(
    engine: Engine, service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    other_key = Sealer()
    restarted = IdentityService(
        engine,
        other_key.seal,
        other_key.unseal,
        now=clock,
        random_bytes=random.Random(9).randbytes,
        password_hasher=FAST_HASHER,
    )
    with pytest.raises(SealedSecretUnreadable) as err:
        restarted.verify_fresh_totp(user.user_id, code_now(enrolment, clock))
    assert err.value.code == "sealed_secret_unreadable"


def audit_rows(engine: Engine) -> list[tuple[str, str, int | None, str | None, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.action,
                audit_events.c.actor,
                audit_events.c.user_id,
                audit_events.c.source_ip,
                audit_events.c.at,
                audit_events.c.detail,
            ).order_by(audit_events.c.id)
        ).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def test_log_ins_failures_lockouts_and_2fa_changes_are_audited(
    engine: Engine, service: IdentityService, user: User, clock: Clock
) -> None:
    ip = "198.51.100.7"
    service.log_in(user.email, PASSWORD, source_ip=ip)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, LockedOut)):
            service.log_in(user.email, "wrong password!!", source_ip=ip)
    clock.advance(15 * 60_000)
    enrolment, _ = enable_2fa(service, user, clock, source_ip=ip)
    service.verify_fresh_totp(user.user_id, code_now(enrolment, clock), source_ip=ip, purpose="create_key")
    clock.advance(30_000)
    service.disable_totp(user.user_id, code_now(enrolment, clock), source_ip=ip)
    service.log_out_everywhere(user.user_id, source_ip=ip)

    rows = audit_rows(engine)
    actions = [r[0] for r in rows]
    assert actions[:1] == ["identity.signup"]
    for expected in [
        "identity.login.succeeded",
        "identity.login.failed",
        "identity.locked_out",
        "identity.2fa.enrolment_started",
        "identity.2fa.enabled",
        "identity.step_up.verified",
        "identity.2fa.disabled",
        "identity.session.revoked_all",
    ]:
        assert expected in actions
    assert actions.count("identity.login.failed") == 5
    assert all(r[1] == f"user:{user.user_id}" and r[2] == user.user_id for r in rows)
    assert all(r[3] == ip for r in rows[1:])
    assert all(START_MS <= r[4] <= clock() for r in rows)
    assert ("identity.step_up.verified", "purpose=create_key") in [(r[0], r[5]) for r in rows]
    details = " ".join(r[5] for r in rows)
    assert PASSWORD not in details and "wrong password" not in details and enrolment.secret not in details


def test_failed_log_in_with_an_unknown_email_does_not_record_what_was_typed(
    engine: Engine, service: IdentityService
) -> None:
    with pytest.raises(InvalidCredentials):
        service.log_in("my-actual-password@x.io", "whatever whatever", source_ip="203.0.113.1")
    (row,) = audit_rows(engine)
    assert row[0] == "identity.login.failed" and row[1] == "anonymous" and row[2] is None
    assert "my-actual-password" not in " ".join(str(c) for c in row)
