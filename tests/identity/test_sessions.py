from __future__ import annotations

import pytest

from keyplane.identity import IdentityService, User
from keyplane.identity.errors import CsrfInvalid, SessionInvalid, SessionNotFound
from tests.identity.conftest import PASSWORD, Clock

HOUR_MS = 3_600_000


def test_session_expires_after_twelve_idle_hours(service: IdentityService, user: User, clock: Clock) -> None:
    session = service.log_in(user.email, PASSWORD)
    clock.advance(12 * HOUR_MS - 1)
    service.authenticate(session.token)
    clock.advance(12 * HOUR_MS - 1)
    service.authenticate(session.token)  # activity moved the idle deadline on
    clock.advance(12 * HOUR_MS)
    with pytest.raises(SessionInvalid) as err:
        service.authenticate(session.token)
    assert err.value.code == "session_invalid"


def test_session_expires_after_seven_days_even_when_active(
    service: IdentityService, user: User, clock: Clock
) -> None:
    session = service.log_in(user.email, PASSWORD)
    for _ in range(7 * 2 - 1):
        clock.advance(12 * HOUR_MS - 60_000)
        service.authenticate(session.token)
    clock.advance(12 * HOUR_MS)
    with pytest.raises(SessionInvalid):
        service.authenticate(session.token)


def test_an_unknown_token_is_refused(service: IdentityService) -> None:
    with pytest.raises(SessionInvalid):
        service.authenticate("kps_not-a-real-token")


def test_list_and_revoke_one_session(service: IdentityService, user: User) -> None:
    laptop = service.log_in(user.email, PASSWORD, source_ip="198.51.100.7", user_agent="Firefox")
    phone = service.log_in(user.email, PASSWORD, source_ip="198.51.100.8", user_agent="Safari")
    listed = service.list_sessions(user.user_id)
    assert [s.user_agent for s in listed] == ["Firefox", "Safari"]
    service.revoke_session(user.user_id, phone.info.session_id)
    with pytest.raises(SessionInvalid):
        service.authenticate(phone.token)
    service.authenticate(laptop.token)
    assert [s.session_id for s in service.list_sessions(user.user_id)] == [laptop.info.session_id]


def test_a_user_cannot_revoke_someone_elses_session(service: IdentityService, user: User) -> None:
    bob = service.sign_up("bob@example.com", "bob's long password")
    alice_session = service.log_in(user.email, PASSWORD)
    with pytest.raises(SessionNotFound):
        service.revoke_session(bob.user_id, alice_session.info.session_id)
    service.authenticate(alice_session.token)


def test_log_out_everywhere_ends_every_session(service: IdentityService, user: User) -> None:
    tokens = [service.log_in(user.email, PASSWORD).token for _ in range(3)]
    assert service.log_out_everywhere(user.user_id) == 3
    for token in tokens:
        with pytest.raises(SessionInvalid):
            service.authenticate(token)
    assert service.list_sessions(user.user_id) == []


def test_log_out_everywhere_can_keep_the_current_session(service: IdentityService, user: User) -> None:
    current = service.log_in(user.email, PASSWORD)
    other = service.log_in(user.email, PASSWORD)
    assert service.log_out_everywhere(user.user_id, keep_session_id=current.info.session_id) == 1
    service.authenticate(current.token)
    with pytest.raises(SessionInvalid):
        service.authenticate(other.token)


def test_log_out_ends_the_current_session(service: IdentityService, user: User) -> None:
    session = service.log_in(user.email, PASSWORD)
    service.log_out(session.token)
    with pytest.raises(SessionInvalid):
        service.authenticate(session.token)
    service.log_out(session.token)  # twice is harmless


def test_csrf_token_belongs_to_its_session_only(service: IdentityService, user: User) -> None:
    first = service.log_in(user.email, PASSWORD)
    second = service.log_in(user.email, PASSWORD)
    service.verify_csrf(first.token, first.csrf_token)
    with pytest.raises(CsrfInvalid) as err:
        service.verify_csrf(first.token, second.csrf_token)
    assert err.value.code == "csrf_invalid"
    with pytest.raises(CsrfInvalid):
        service.verify_csrf(first.token, "")
