"""Identity fixtures: a service on the real migrated database, a settable clock, a test sealer."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine

from keyplane.identity import IdentityService, TotpEnrolment, User
from keyplane.identity import totp as totp_mod

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, on a 30 s step boundary
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    ms: int = START_MS

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


class Sealer:
    """AES-256-GCM with a random nonce, standing in for the keys package's sealer."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def unseal(self, sealed: bytes, associated_data: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], associated_data)


# Cheap Argon2id parameters keep the suite fast; production uses argon2-cffi's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sealer() -> Sealer:
    return Sealer()


@pytest.fixture
def service(engine: Engine, clock: Clock, sealer: Sealer) -> IdentityService:
    return IdentityService(
        engine,
        sealer.seal,
        sealer.unseal,
        now=clock,
        random_bytes=random.Random(7).randbytes,
        password_hasher=FAST_HASHER,
    )


@pytest.fixture
def user(service: IdentityService) -> User:
    return service.sign_up("alice@example.com", PASSWORD, source_ip="198.51.100.7")


def code_now(enrolment: TotpEnrolment, clock: Clock, steps_ahead: int = 0) -> str:
    return totp_mod.code_at(enrolment.secret, totp_mod.step_at(clock()) + steps_ahead)


def enable_2fa(
    service: IdentityService, user: User, clock: Clock, source_ip: str | None = None
) -> tuple[TotpEnrolment, tuple[str, ...]]:
    """Enrol and confirm, then move one step on so that tests start with a fresh code."""
    enrolment = service.begin_totp_enrolment(user.user_id, source_ip=source_ip)
    codes = service.confirm_totp_enrolment(
        user.user_id, code_now(enrolment, clock), source_ip=source_ip
    ).codes
    clock.advance(totp_mod.STEP_SECONDS * 1000)
    return enrolment, codes
