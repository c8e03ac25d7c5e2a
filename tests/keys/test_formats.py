from __future__ import annotations

from keyplane.keys.formats import (
    find_leaked_secrets,
    is_well_formed_key_id,
    is_well_formed_secret,
    new_key_id,
    new_secret,
)


def test_new_key_ids_and_secrets_are_well_formed_and_distinct() -> None:
    ids = {new_key_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(is_well_formed_key_id(k) and k.startswith("kpk_") for k in ids)
    secret = new_secret()
    assert secret.startswith("kps_") and is_well_formed_secret(secret)


def test_a_single_changed_character_fails_the_checksum() -> None:
    key = new_key_id()
    for position in range(4, len(key)):
        replacement = "A" if key[position] != "A" else "B"
        assert not is_well_formed_key_id(key[:position] + replacement + key[position + 1 :])


def test_wrong_prefix_length_or_alphabet_is_malformed() -> None:
    key = new_key_id()
    assert not is_well_formed_key_id("kps_" + key[4:])
    assert not is_well_formed_key_id(key + "A")
    assert not is_well_formed_key_id(key[:-1] + "-")
    assert not is_well_formed_key_id("")


def test_a_scanner_finds_leaked_secrets_in_text_and_ignores_lookalikes() -> None:
    secret = new_secret()
    fake = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    text = f"config = {{'secret': '{secret}', 'other': '{fake}'}}"
    assert find_leaked_secrets(text) == [secret]
