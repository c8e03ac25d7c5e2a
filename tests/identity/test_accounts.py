from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from keyplane.identity import IdentityService, User
from keyplane.identity.errors import EmailTaken, InvalidCredentials, InvalidEmail, WeakPassword
from keyplane.store.identity_tables import user_credentials
from keyplane.store.tables import users
from tests.identity.conftest import PASSWORD, Clock, Sealer


def test_sign_up_then_log_in_opens_a_full_session(service: IdentityService, user: User) -> None:
    new = service.log_in("Alice@Example.com ", PASSWORD, source_ip="198.51.100.7", user_agent="pytest")
    assert not new.needs_second_factor
    info = service.authenticate(new.token)
    assert info.user_id == user.user_id
    assert service.get_user(user.user_id) == User(user.user_id, "alice@example.com", user.created_at, False)


def test_console_user_is_a_users_row_named_by_email(engine: Engine, user: User) -> None:
    with engine.connect() as conn:
        assert conn.execute(select(users.c.name).where(users.c.id == user.user_id)).scalar_one() == user.email


def test_wrong_password_and_unknown_email_get_the_same_error(service: IdentityService, user: User) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        service.log_in(user.email, "not the password at all")
    with pytest.raises(InvalidCredentials) as unknown:
        service.log_in("nobody@example.com", PASSWORD)
    assert wrong.value.code == unknown.value.code == "invalid_credentials"
    assert wrong.value.message == unknown.value.message
    assert "exist" not in wrong.value.message


def test_sign_up_with_a_taken_email_is_refused_whatever_its_case(
    service: IdentityService, user: User
) -> None:
    with pytest.raises(EmailTaken) as err:
        service.sign_up("ALICE@example.com", "another long password")
    assert err.value.code == "email_taken"


@pytest.mark.parametrize("email", ["", "alice", "alice@", "@example.com", "a b@example.com", "alice@example"])
def test_malformed_email_is_refused(service: IdentityService, email: str) -> None:
    with pytest.raises(InvalidEmail) as err:
        service.sign_up(email, PASSWORD)
    assert err.value.code == "invalid_email"


def test_password_shorter_than_ten_characters_is_refused(service: IdentityService) -> None:
    with pytest.raises(WeakPassword) as err:
        service.sign_up("bob@example.com", "123456789")
    assert err.value.code == "weak_password"
    assert "10" in err.value.message


def test_password_is_stored_as_argon2id_and_rehashed_when_parameters_change(
    engine: Engine, service: IdentityService, user: User, clock: Clock, sealer: Sealer
) -> None:
    def stored_hash() -> str:
        with engine.connect() as conn:
            return str(conn.execute(select(user_credentials.c.password_hash)).scalar_one())

    before = stored_hash()
    assert before.startswith("$argon2id$") and "t=1," in before
    stronger = IdentityService(
        engine,
        sealer.seal,
        sealer.unseal,
        now=clock,
        password_hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1),
    )
    stronger.log_in(user.email, PASSWORD)
    after = stored_hash()
    assert after != before and "t=2," in after
    stronger.log_in(user.email, PASSWORD)


def test_a_long_email_gets_a_unique_users_name(service: IdentityService) -> None:
    local = "x" * 70
    first = service.sign_up(f"{local}@example.com", PASSWORD)
    second = service.sign_up(f"{local}@example.org", PASSWORD)
    assert first.user_id != second.user_id
    service.log_in(f"{local}@example.org", PASSWORD)


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("1234567890", "This is a top-100 common password."),
        ("qwertyuiop[]", "Straight rows of keys are easy to guess."),
        ("bob.builder@example.com", "Add another word or two."),
    ],
)
def test_a_long_but_guessable_password_is_refused_with_zxcvbn_advice(
    service: IdentityService, password: str, advice: str
) -> None:
    with pytest.raises(WeakPassword) as err:
        service.sign_up("bob.builder@example.com", password)
    assert err.value.code == "weak_password"
    assert err.value.message.startswith("This password is easy to guess.")
    assert advice in err.value.message and password not in err.value.message


def test_the_users_own_name_counts_against_the_password(service: IdentityService) -> None:
    with pytest.raises(WeakPassword):
        service.sign_up("margarethe.vonstrassburg@example.com", "vonstrassburg2026")
    service.sign_up("someone.else@example.com", "vonstrassburg2026")
