from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from keyplane.identity import IdentityService, User
from keyplane.identity import totp as totp_mod
from keyplane.identity.errors import InvalidCredentials, LockedOut, TotpInvalid
from tests.identity.conftest import FAST_HASHER, PASSWORD, Clock, Sealer, code_now, enable_2fa

MINUTE_MS = 60_000


def bad_code(enrolment_secret: str, clock: Clock) -> str:
    good = {totp_mod.code_at(enrolment_secret, totp_mod.step_at(clock()) + d) for d in (-1, 0, 1)}
    return next(c for c in ("111111", "222222", "333333", "444444") if c not in good)


def test_five_bad_passwords_lock_the_account_even_for_the_right_password(
    service: IdentityService, user: User, clock: Clock
) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.log_in(user.email, "wrong password!!")
    with pytest.raises(LockedOut) as fifth:
        service.log_in(user.email, "wrong password!!")
    assert fifth.value.code == "locked_out"
    assert fifth.value.until_ms == clock() + 15 * MINUTE_MS
    assert "locked until 2026-01-01 00:15:00 UTC" in fifth.value.message
    with pytest.raises(LockedOut):
        service.log_in(user.email, PASSWORD)


def test_lockout_lifts_when_its_time_is_over(service: IdentityService, user: User, clock: Clock) -> None:
    for _ in range(5):
        with pytest.raises((InvalidCredentials, LockedOut)):
            service.log_in(user.email, "wrong password!!")
    clock.advance(15 * MINUTE_MS - 1)
    with pytest.raises(LockedOut):
        service.log_in(user.email, PASSWORD)
    clock.advance(1)
    assert service.authenticate(service.log_in(user.email, PASSWORD).token).user_id == user.user_id


def test_failures_spread_beyond_the_window_do_not_lock(
    service: IdentityService, user: User, clock: Clock
) -> None:
    for _ in range(8):
        with pytest.raises(InvalidCredentials):
            service.log_in(user.email, "wrong password!!")
        clock.advance(4 * MINUTE_MS)


def test_an_unknown_email_locks_out_exactly_like_a_real_one(service: IdentityService) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.log_in("ghost@example.com", "wrong password!!")
    with pytest.raises(LockedOut):
        service.log_in("ghost@example.com", "wrong password!!")


def test_one_address_failing_on_many_accounts_is_locked(service: IdentityService, user: User) -> None:
    for i in range(19):
        with pytest.raises(InvalidCredentials):
            service.log_in(f"victim{i}@example.com", "wrong password!!", source_ip="203.0.113.9")
    with pytest.raises(LockedOut):
        service.log_in(f"victim{19}@example.com", "wrong password!!", source_ip="203.0.113.9")
    with pytest.raises(LockedOut):
        service.log_in(user.email, PASSWORD, source_ip="203.0.113.9")
    service.log_in(user.email, PASSWORD, source_ip="198.51.100.7")


def test_five_bad_totp_codes_lock_the_second_factor(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    pending = service.log_in(user.email, PASSWORD)
    wrong = bad_code(enrolment.secret, clock)
    for _ in range(4):
        with pytest.raises(TotpInvalid):
            service.complete_two_factor(pending.token, wrong)
    with pytest.raises(LockedOut) as err:
        service.complete_two_factor(pending.token, wrong)
    assert "Too many failed attempts" in err.value.message
    with pytest.raises(LockedOut):
        service.verify_fresh_totp(user.user_id, code_now(enrolment, clock))
    clock.advance(15 * MINUTE_MS)
    service.verify_fresh_totp(user.user_id, code_now(enrolment, clock))


def test_the_lock_holds_across_service_instances(
    engine: Engine, service: IdentityService, user: User, clock: Clock, sealer: Sealer
) -> None:
    for _ in range(5):
        with pytest.raises((InvalidCredentials, LockedOut)):
            service.log_in(user.email, "wrong password!!")
    other = IdentityService(
        engine,
        sealer.seal,
        sealer.unseal,
        now=clock,
        random_bytes=random.Random(8).randbytes,
        password_hasher=FAST_HASHER,
    )
    with pytest.raises(LockedOut):
        other.log_in(user.email, PASSWORD)


def test_a_success_resets_the_account_count(service: IdentityService, user: User) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.log_in(user.email, "wrong password!!")
    service.log_in(user.email, PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.log_in(user.email, "wrong password!!")
