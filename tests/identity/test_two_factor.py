from __future__ import annotations

import pytest

from keyplane.identity import IdentityService, User
from keyplane.identity import totp as totp_mod
from keyplane.identity.errors import (
    EnrolmentNotStarted,
    RecoveryCodeInvalid,
    SessionInvalid,
    TotpInvalid,
    TotpReused,
    TwoFactorAlreadyEnabled,
    TwoFactorNotEnabled,
    TwoFactorRequired,
)
from tests.identity.conftest import PASSWORD, Clock, code_now, enable_2fa

STEP_MS = totp_mod.STEP_SECONDS * 1000


def test_enrolment_gives_an_otpauth_uri_and_an_svg_qr_code(service: IdentityService, user: User) -> None:
    enrolment = service.begin_totp_enrolment(user.user_id)
    assert enrolment.otpauth_uri.startswith("otpauth://totp/Keyplane:alice%40example.com?")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    assert "<svg" in enrolment.qr_svg and "</svg>" in enrolment.qr_svg
    assert not service.get_user(user.user_id).two_factor_enabled


def test_enrolment_is_confirmed_only_by_a_valid_code(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment = service.begin_totp_enrolment(user.user_id)
    with pytest.raises(TotpInvalid):
        service.confirm_totp_enrolment(user.user_id, code_now(enrolment, clock, 10))
    codes = service.confirm_totp_enrolment(user.user_id, code_now(enrolment, clock))
    assert len(codes.codes) == 10 and len(set(codes.codes)) == 10
    assert service.get_user(user.user_id).two_factor_enabled
    with pytest.raises(TwoFactorAlreadyEnabled):
        service.begin_totp_enrolment(user.user_id)


def test_confirming_without_a_started_enrolment_is_refused(service: IdentityService, user: User) -> None:
    with pytest.raises(EnrolmentNotStarted):
        service.confirm_totp_enrolment(user.user_id, "123456")


def test_log_in_with_2fa_needs_the_code_and_then_swaps_the_session(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    pending = service.log_in(user.email, PASSWORD)
    assert pending.needs_second_factor
    with pytest.raises(TwoFactorRequired) as err:
        service.authenticate(pending.token)
    assert err.value.code == "2fa_required"
    full = service.complete_two_factor(pending.token, code_now(enrolment, clock))
    assert not full.needs_second_factor and full.token != pending.token
    assert service.authenticate(full.token).user_id == user.user_id
    with pytest.raises(SessionInvalid):
        service.authenticate(pending.token)


def test_a_totp_code_cannot_be_used_twice(service: IdentityService, user: User, clock: Clock) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    code = code_now(enrolment, clock)
    service.verify_fresh_totp(user.user_id, code, purpose="create_key")
    with pytest.raises(TotpReused) as err:
        service.verify_fresh_totp(user.user_id, code, purpose="create_key")
    assert err.value.code == "totp_reused"


def test_codes_one_step_off_are_accepted_two_steps_off_refused(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    clock.advance(5 * STEP_MS)
    service.verify_fresh_totp(user.user_id, code_now(enrolment, clock, -1))
    with pytest.raises(TotpInvalid):
        service.verify_fresh_totp(user.user_id, code_now(enrolment, clock, +2))
    service.verify_fresh_totp(user.user_id, code_now(enrolment, clock, +1))
    # The current step is now older than the last accepted one: refused as a replay.
    with pytest.raises(TotpReused):
        service.verify_fresh_totp(user.user_id, code_now(enrolment, clock))


def test_a_recovery_code_logs_in_once(service: IdentityService, user: User, clock: Clock) -> None:
    _, codes = enable_2fa(service, user, clock)
    first = service.log_in(user.email, PASSWORD)
    full = service.complete_two_factor_with_recovery_code(first.token, codes[3].upper())
    assert service.authenticate(full.token).user_id == user.user_id
    second = service.log_in(user.email, PASSWORD)
    with pytest.raises(RecoveryCodeInvalid) as err:
        service.complete_two_factor_with_recovery_code(second.token, codes[3])
    assert err.value.code == "recovery_code_invalid"
    service.complete_two_factor_with_recovery_code(second.token, codes[4].replace("-", ""))


def test_regenerated_recovery_codes_replace_the_old_ones(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, old = enable_2fa(service, user, clock)
    new = service.regenerate_recovery_codes(user.user_id, code_now(enrolment, clock)).codes
    assert not set(old) & set(new)
    pending = service.log_in(user.email, PASSWORD)
    with pytest.raises(RecoveryCodeInvalid):
        service.complete_two_factor_with_recovery_code(pending.token, old[0])
    service.complete_two_factor_with_recovery_code(pending.token, new[0])


def test_disabling_2fa_needs_a_fresh_totp_code(service: IdentityService, user: User, clock: Clock) -> None:
    enrolment, codes = enable_2fa(service, user, clock)
    with pytest.raises(TotpInvalid):
        service.disable_totp(user.user_id, codes[0])
    code = code_now(enrolment, clock)
    service.verify_fresh_totp(user.user_id, code)
    with pytest.raises(TotpReused):
        service.disable_totp(user.user_id, code)
    clock.advance(STEP_MS)
    service.disable_totp(user.user_id, code_now(enrolment, clock))
    assert not service.get_user(user.user_id).two_factor_enabled
    assert not service.log_in(user.email, PASSWORD).needs_second_factor


def test_step_up_without_2fa_says_it_is_not_enabled(service: IdentityService, user: User) -> None:
    with pytest.raises(TwoFactorNotEnabled) as err:
        service.verify_fresh_totp(user.user_id, "123456", purpose="add_withdraw")
    assert err.value.code == "2fa_not_enabled"


def test_enrolment_does_not_expose_secrets_in_repr(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment = service.begin_totp_enrolment(user.user_id)
    codes = service.confirm_totp_enrolment(user.user_id, code_now(enrolment, clock))
    session = service.log_in(user.email, PASSWORD)
    assert enrolment.secret not in repr(enrolment)
    assert codes.codes[0] not in repr(codes)
    assert session.token not in repr(session) and session.csrf_token not in repr(session)


def test_a_pending_log_in_expires_after_five_minutes(
    service: IdentityService, user: User, clock: Clock
) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    pending = service.log_in(user.email, PASSWORD)
    clock.advance(5 * 60_000)
    with pytest.raises(SessionInvalid):
        service.complete_two_factor(pending.token, code_now(enrolment, clock))


def test_a_full_session_cannot_be_completed_again(service: IdentityService, user: User, clock: Clock) -> None:
    enrolment, _ = enable_2fa(service, user, clock)
    full = service.complete_two_factor(service.log_in(user.email, PASSWORD).token, code_now(enrolment, clock))
    clock.advance(STEP_MS)
    with pytest.raises(SessionInvalid):
        service.complete_two_factor(full.token, code_now(enrolment, clock))


def test_an_unconfirmed_enrolment_expires(service: IdentityService, user: User, clock: Clock) -> None:
    enrolment = service.begin_totp_enrolment(user.user_id)
    clock.advance(31 * 60_000)
    with pytest.raises(EnrolmentNotStarted) as err:
        service.confirm_totp_enrolment(user.user_id, code_now(enrolment, clock))
    assert err.value.code == "2fa_enrolment_missing"


@pytest.mark.parametrize("zero", ["\uff10", "\u0660", "\u0966"])  # fullwidth, Arabic-Indic, Devanagari
def test_a_code_in_non_ascii_digits_matches_no_step(zero: str, clock: Clock) -> None:
    secret = totp_mod.new_secret(lambda n: bytes(range(n)))
    code = totp_mod.code_at(secret, totp_mod.step_at(clock()))
    lookalike = code.translate({ord(d): ord(zero) + int(d) for d in "0123456789"})
    assert lookalike.isdigit() and not lookalike.isascii()
    assert totp_mod.matching_steps(secret, code, clock()) == [totp_mod.step_at(clock())]
    assert totp_mod.matching_steps(secret, lookalike, clock()) == []
