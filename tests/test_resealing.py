"""Master-key rotation re-seals every sealed secret: API secrets and TOTP secrets alike."""

from __future__ import annotations

import os

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import Engine

from keyplane.identity import IdentityService
from keyplane.keys.sealing import Sealer
from keyplane.keys.service import Actor, KeyService
from keyplane.resealing import reseal_all


def test_rotation_reseals_api_and_totp_secrets_so_both_still_work(engine: Engine) -> None:
    clock = [1_800_000_000_000]
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = Sealer(old_key)
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    identity = IdentityService(engine, old.seal, old.unseal, now=lambda: clock[0], password_hasher=hasher)
    user = identity.sign_up("rota@example.com", "a long enough password")
    secret = identity.begin_totp_enrolment(user.user_id).secret
    identity.confirm_totp_enrolment(user.user_id, pyotp.TOTP(secret).at(clock[0] / 1000))
    keys = KeyService(engine, old, now_ms=lambda: clock[0])
    api_key = keys.create(user.user_id, Actor("test")).key

    new = Sealer(new_key, old_key)
    assert reseal_all(engine, old, new) == 2  # one API secret, one TOTP secret

    only_new = Sealer(new_key)
    clock[0] += 60_000
    IdentityService(
        engine, only_new.seal, only_new.unseal, now=lambda: clock[0], password_hasher=hasher
    ).verify_fresh_totp(user.user_id, pyotp.TOTP(secret).at(clock[0] / 1000))
    assert KeyService(engine, only_new).load_for_cache(api_key.key_id) is not None
