from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keyplane.keys.masterkey import KEY_FILE, MasterKeyError, encode_key, load_sealer
from keyplane.keys.sealing import Sealer, SealingError


def test_sealed_secret_opens_only_with_its_key_id_as_associated_data() -> None:
    sealer = Sealer(os.urandom(32))
    blob = sealer.seal(b"kps_secret", b"kpk_one")
    assert b"kps_secret" not in blob
    assert sealer.unseal(blob, b"kpk_one") == b"kps_secret"
    with pytest.raises(SealingError):
        sealer.unseal(blob, b"kpk_two")


def test_tampered_blob_is_refused() -> None:
    sealer = Sealer(os.urandom(32))
    blob = bytearray(sealer.seal(b"secret", b"id"))
    blob[-1] ^= 1
    with pytest.raises(SealingError):
        sealer.unseal(bytes(blob), b"id")


def test_a_new_master_key_still_opens_blobs_sealed_under_the_old_one() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    blob = Sealer(old_key).seal(b"secret", b"id")
    both = Sealer(new_key, old_key)
    assert both.unseal(blob, b"id") == b"secret"
    assert both.sealed_with_current(both.seal(b"x", b"id"))
    with pytest.raises(SealingError):
        Sealer(new_key).unseal(blob, b"id")


def test_master_key_file_is_created_0600_on_first_run_and_reused(tmp_path: Path) -> None:
    first = load_sealer(tmp_path, None)
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    blob = first.seal(b"secret", b"id")
    assert load_sealer(tmp_path, None).unseal(blob, b"id") == b"secret"


def test_a_world_readable_master_key_file_is_refused(tmp_path: Path) -> None:
    load_sealer(tmp_path, None)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(MasterKeyError, match="readable by others"):
        load_sealer(tmp_path, None)


def test_master_key_from_environment_is_used_and_validated(tmp_path: Path) -> None:
    key = os.urandom(32)
    sealer = load_sealer(tmp_path, encode_key(key))
    assert Sealer(key).unseal(sealer.seal(b"s", b"i"), b"i") == b"s"
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(MasterKeyError):
        load_sealer(tmp_path, "too-short")


def test_sealer_repr_shows_no_key_material() -> None:
    key = os.urandom(32)
    text = repr(Sealer(key))
    assert key.hex() not in text and encode_key(key) not in text
