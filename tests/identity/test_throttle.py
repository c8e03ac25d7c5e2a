from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from keyplane.identity import IdentityService, User
from keyplane.identity import totp as totp_mod
from keyplane.identity.errors import (
    AddressLockedOut,
    EmailTaken,
    InvalidCredentials,
    LockedOut,
    TooManySignUps,
    TotpInvalid,
    WeakPassword,
)
from tests.identity.conftest import FAST_HASHER, PASSWORD, START_MS, Clock, Sealer, code_now, enable_2fa

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


HOUR_MS = 60 * MINUTE_MS
STORM_IP = "203.0.113.9"


def storm(service: IdentityService, ip: str = STORM_IP) -> None:
    """Twenty wrong passwords on twenty accounts from one address: a password spray."""
    for i in range(20):
        with pytest.raises((InvalidCredentials, LockedOut)):
            service.log_in(f"victim{i}@example.com", "wrong password!!", source_ip=ip)


def test_sign_ups_from_one_address_are_limited_to_five_an_hour(
    service: IdentityService, clock: Clock
) -> None:
    for i in range(5):
        service.sign_up(f"user{i}@example.com", PASSWORD, source_ip="203.0.113.5")
        clock.advance(MINUTE_MS)
    with pytest.raises(TooManySignUps) as err:
        service.sign_up("user5@example.com", PASSWORD, source_ip="203.0.113.5")
    assert err.value.code == "signup_throttled"
    assert err.value.until_ms == START_MS + 4 * MINUTE_MS + HOUR_MS
    assert "Too many new accounts from your address" in err.value.message
    with pytest.raises(InvalidCredentials):
        service.log_in("user5@example.com", PASSWORD)
    service.sign_up("user5@example.com", PASSWORD, source_ip="198.51.100.5")
    clock.advance(HOUR_MS)
    service.sign_up("user6@example.com", PASSWORD, source_ip="203.0.113.5")


def test_probing_for_taken_emails_counts_against_the_sign_up_limit(
    service: IdentityService, user: User
) -> None:
    for _ in range(5):
        with pytest.raises(EmailTaken):
            service.sign_up(user.email, PASSWORD, source_ip="203.0.113.5")
    with pytest.raises(TooManySignUps):
        service.sign_up("new@example.com", PASSWORD, source_ip="203.0.113.5")


def test_refused_input_does_not_use_up_the_sign_up_limit(service: IdentityService) -> None:
    for _ in range(6):
        with pytest.raises(WeakPassword):
            service.sign_up("new@example.com", "1234567890", source_ip="203.0.113.5")
    service.sign_up("new@example.com", PASSWORD, source_ip="203.0.113.5")


def test_after_a_password_storm_a_2fa_user_at_that_address_logs_in_with_password_and_code(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    storm(service)
    with pytest.raises(AddressLockedOut) as locked:
        service.log_in(user.email, PASSWORD, source_ip=STORM_IP)
    assert locked.value.code == "address_locked_out" and "authenticator" in locked.value.message
    session = service.log_in(user.email, PASSWORD, source_ip=STORM_IP, totp_code=code_now(enrolment, clock))
    assert not session.needs_second_factor
    assert service.authenticate(session.token).user_id == user.user_id
    with pytest.raises(AddressLockedOut):  # the address keeps its count and its lock
        service.log_in("victim0@example.com", "wrong password!!", source_ip=STORM_IP)


def test_the_address_lock_still_stops_accounts_without_2fa(service: IdentityService, user: User) -> None:
    storm(service)
    for code in (None, "123456"):
        with pytest.raises(AddressLockedOut):
            service.log_in(user.email, PASSWORD, source_ip=STORM_IP, totp_code=code)
    service.log_in(user.email, PASSWORD, source_ip="198.51.100.7")


def test_past_the_address_lock_every_refusal_reads_the_same_and_counts_on_the_account(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    good = code_now(enrolment, clock)
    storm(service)
    attempts = [
        ("wrong password!!", good),
        (PASSWORD, bad_code(enrolment.secret, clock)),
        (PASSWORD, "１２３４５６"),
        (PASSWORD, code_now(enrolment, clock, -1)),  # older than the last used step: a replay
    ]
    messages = set()
    for password, code in attempts:
        with pytest.raises(AddressLockedOut) as err:
            service.log_in(user.email, password, source_ip=STORM_IP, totp_code=code)
        messages.add(err.value.message)
    assert len(messages) == 1
    with pytest.raises(LockedOut) as fifth:  # the fifth failure locks the account itself
        service.log_in(user.email, "wrong password!!", source_ip=STORM_IP, totp_code=good)
    assert not isinstance(fifth.value, AddressLockedOut)
    with pytest.raises(LockedOut):
        service.log_in(user.email, PASSWORD, source_ip=STORM_IP, totp_code=good)
    with pytest.raises(LockedOut):
        service.log_in(user.email, PASSWORD, source_ip="198.51.100.7")
