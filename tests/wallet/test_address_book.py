"""The withdrawal-address book: checked destinations, cooling-off to the millisecond, audited changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from keyplane.exchange.wallet.address_book import (
    MAX_ENTRIES_PER_USER,
    AddressBook,
    BookAction,
    EntryStatus,
)
from keyplane.exchange.wallet.addresses import AddressDeriver
from keyplane.exchange.wallet.errors import (
    AddressBookChangeRefused,
    AddressCoolingOff,
    InvalidAddress,
    InvalidMemo,
    NotInAddressBook,
    UnknownAsset,
    UnknownBookEntry,
    UnknownNetwork,
)
from keyplane.exchange.wallet.networks import AddressFamily
from keyplane.store.tables import audit_events
from keyplane.store.wallet_book_tables import wallet_address_book
from tests.wallet.conftest import T0, Clock

HOUR_MS = 3_600_000
COOLING_OFF = 24 * HOUR_MS
# BIP-173's P2WPKH example, and an EIP-55 example from the EIP itself.
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SOL_ADDRESS = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


@pytest.fixture
def book(engine: Engine, clock: Clock) -> AddressBook:
    return AddressBook(engine, cooling_off_ms=COOLING_OFF, now=clock)


def add(book: AddressBook, user: int, coin: str, network: str | None, address: str, **kw: Any) -> Any:
    return book.add(user, coin, network, address, actor=f"user:{user}", source_ip="198.51.100.7", **kw)


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(wallet_address_book)).scalar_one())


def audit(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(select(audit_events).order_by(audit_events.c.id)).mappings().all()
    return [dict(r) for r in found if str(r["action"]).startswith("wallet.")]


def test_an_added_address_is_pending_until_the_cooling_off_ends_to_the_millisecond(
    book: AddressBook, clock: Clock, alice: int
) -> None:
    entry = add(book, alice, "BTC", "BTC", BTC_ADDRESS, label="cold storage")
    assert entry.added_at == T0 and entry.label == "cold storage" and entry.checksummed
    assert book.matures_at(entry) == T0 + COOLING_OFF

    with pytest.raises(AddressCoolingOff) as early:
        book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", T0 + COOLING_OFF - 1)
    assert early.value.code == -4007
    assert "pending until 2023-11-15 22:13:20 UTC" in early.value.msg and BTC_ADDRESS in early.value.msg
    clock.t = T0 + COOLING_OFF - 1
    assert [b.status for b in book.entries(alice)] == [EntryStatus.PENDING]

    assert book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", T0 + COOLING_OFF) == entry
    clock.t = T0 + COOLING_OFF
    assert [(b.status, b.matures_at) for b in book.entries(alice)] == [
        (EntryStatus.MATURED, T0 + COOLING_OFF)
    ]


def test_a_withdrawal_destination_not_in_the_book_is_refused_whatever_else_the_user_booked(
    book: AddressBook, alice: int, bob: int
) -> None:
    add(book, alice, "ETH", "ETH", ETH_ADDRESS)
    later = T0 + COOLING_OFF
    with pytest.raises(NotInAddressBook) as other_user:
        book.matured_entry(bob, "ETH", "ETH", ETH_ADDRESS, "", later)
    assert other_user.value.code == -4007 and "not in your withdrawal address book" in other_user.value.msg
    with pytest.raises(NotInAddressBook):  # booked for ETH, not for USDT on the same network
        book.matured_entry(alice, "USDT", "ETH", ETH_ADDRESS, "", later)
    with pytest.raises(InvalidAddress):  # decoded first: a typo is a typo, not "not in the book"
        book.matured_entry(alice, "ETH", "ETH", ETH_ADDRESS[:-1] + "e", "", later)
    with pytest.raises(InvalidMemo):
        book.matured_entry(alice, "ETH", "ETH", ETH_ADDRESS, "123", later)


def test_the_booked_destination_is_found_in_any_spelling_and_on_the_default_network(
    book: AddressBook, alice: int
) -> None:
    entry = add(book, alice, "ETH", None, ETH_ADDRESS.lower())
    assert entry.network == "ETH" and entry.address == ETH_ADDRESS and not entry.checksummed
    later = T0 + COOLING_OFF
    assert book.matured_entry(alice, "ETH", "ETH", ETH_ADDRESS, "", later) == entry
    assert book.matured_entry(alice, "ETH", None, "0x" + ETH_ADDRESS[2:].upper(), "", later) == entry
    upper = add(book, alice, "BTC", "BTC", BTC_ADDRESS.upper())
    assert upper.address == BTC_ADDRESS
    assert book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", later) == upper


def test_a_duplicate_is_refused_in_any_spelling_and_changes_nothing(
    engine: Engine, book: AddressBook, alice: int, bob: int
) -> None:
    add(book, alice, "ETH", "ETH", ETH_ADDRESS)
    before = (rows(engine), len(audit(engine)))
    for spelling in (ETH_ADDRESS, ETH_ADDRESS.lower()):
        with pytest.raises(AddressBookChangeRefused) as refused:
            add(book, alice, "ETH", "ETH", spelling, label="again")
        assert "already in your withdrawal address book" in refused.value.msg
        with pytest.raises(AddressBookChangeRefused):
            book.check(alice, "ETH", "ETH", spelling)
    assert (rows(engine), len(audit(engine))) == before
    add(book, alice, "USDT", "ETH", ETH_ADDRESS)  # the same address for another coin is another entry
    add(book, bob, "ETH", "ETH", ETH_ADDRESS)  # and for another user
    assert rows(engine) == 3


@pytest.mark.parametrize(
    ("coin", "network", "address", "error"),
    [
        ("BTC", "BTC", BTC_ADDRESS[:-1] + "5", InvalidAddress),  # bech32 checksum
        ("ETH", "ETH", ETH_ADDRESS.replace("aAeb", "aaeb"), InvalidAddress),  # EIP-55 checksum
        ("BTC", "BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", InvalidAddress),  # base58check checksum
        ("SOL", "SOL", SOL_ADDRESS[:-1] + "0", InvalidAddress),  # not base58
        ("BTC", "ETH", BTC_ADDRESS, UnknownNetwork),
        ("DOGE", None, BTC_ADDRESS, UnknownAsset),
    ],
)
def test_a_bad_destination_is_refused_before_anything_is_stored(
    engine: Engine, book: AddressBook, alice: int, coin: str, network: str | None, address: str, error: type
) -> None:
    with pytest.raises(error):
        book.check(alice, coin, network, address)
    with pytest.raises(error):
        add(book, alice, coin, network, address)
    assert rows(engine) == 0 and audit(engine) == []


def test_a_memo_on_a_network_without_memos_is_refused(engine: Engine, book: AddressBook, alice: int) -> None:
    with pytest.raises(InvalidMemo):
        add(book, alice, "SOL", "SOL", SOL_ADDRESS, memo="12345")
    assert rows(engine) == 0


def test_solana_addresses_are_booked_but_marked_as_without_checksum(book: AddressBook, alice: int) -> None:
    entry = add(book, alice, "SOL", "SOL", SOL_ADDRESS)
    assert entry.address == SOL_ADDRESS and entry.checksummed is False


@pytest.mark.parametrize("label", ["x" * 65, "bad\nlabel", "right\u202eto left", "zero\u200bwidth"])
def test_a_label_that_could_mislead_is_refused(
    engine: Engine, book: AddressBook, alice: int, label: str
) -> None:
    with pytest.raises(AddressBookChangeRefused):
        add(book, alice, "BTC", "BTC", BTC_ADDRESS, label=label)
    assert rows(engine) == 0


def test_every_addition_and_removal_is_audited_in_the_same_transaction(
    engine: Engine, book: AddressBook, clock: Clock, alice: int
) -> None:
    entry = add(book, alice, "BTC", "BTC", BTC_ADDRESS, label="  hardware  ")
    assert entry.label == "hardware"
    clock.t += 5_000
    removed = book.remove(alice, entry.id, actor=f"user:{alice}", source_ip="198.51.100.8")
    assert removed == entry and book.entries(alice) == []
    events = audit(engine)
    assert [e["action"] for e in events] == [BookAction.ADDED.value, BookAction.REMOVED.value]
    assert [e["at"] for e in events] == [T0, T0 + 5_000]
    assert {e["user_id"] for e in events} == {alice} and {e["actor"] for e in events} == {f"user:{alice}"}
    assert [e["source_ip"] for e in events] == ["198.51.100.7", "198.51.100.8"]
    added = json.loads(events[0]["detail"])
    assert added["address"] == BTC_ADDRESS and added["network"] == "BTC" and added["label"] == "hardware"
    assert added["matures_at"] == "2023-11-15 22:13:20 UTC"
    assert json.loads(events[1]["detail"])["entry_id"] == entry.id


def test_removing_ends_the_entry_and_adding_again_starts_a_new_cooling_off(
    book: AddressBook, clock: Clock, alice: int
) -> None:
    entry = add(book, alice, "BTC", "BTC", BTC_ADDRESS)
    clock.t = T0 + COOLING_OFF
    assert book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", clock.t) == entry
    book.remove(alice, entry.id, actor="user", source_ip=None)
    with pytest.raises(NotInAddressBook):
        book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", clock.t)
    again = add(book, alice, "BTC", "BTC", BTC_ADDRESS)
    assert again.id != entry.id and again.added_at == clock.t
    with pytest.raises(AddressCoolingOff):
        book.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", clock.t + COOLING_OFF - 1)


def test_another_users_entry_cannot_be_removed_and_looks_missing(
    engine: Engine, book: AddressBook, alice: int, bob: int
) -> None:
    entry = add(book, alice, "BTC", "BTC", BTC_ADDRESS)
    for user, entry_id in ((bob, entry.id), (alice, entry.id + 1000)):
        with pytest.raises(UnknownBookEntry) as missing:
            book.remove(user, entry_id, actor="user", source_ip=None)
        assert missing.value.status == 404
    assert [b.entry for b in book.entries(alice)] == [entry]
    assert [e["action"] for e in audit(engine)] == [BookAction.ADDED.value]


def test_the_current_cooling_off_decides_so_lengthening_it_holds_back_pending_entries(
    engine: Engine, clock: Clock, alice: int
) -> None:
    short = AddressBook(engine, cooling_off_ms=60_000, now=clock)
    entry = add(short, alice, "BTC", "BTC", BTC_ADDRESS)
    at = T0 + 60_000
    assert short.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", at) == entry
    longer = AddressBook(engine, cooling_off_ms=COOLING_OFF, now=clock)
    with pytest.raises(AddressCoolingOff):
        longer.matured_entry(alice, "BTC", "BTC", BTC_ADDRESS, "", at)
    none = AddressBook(engine, cooling_off_ms=0, now=clock)
    assert none.status(entry, T0) is EntryStatus.MATURED


def test_check_stores_nothing_and_a_full_book_refuses_more(
    engine: Engine, book: AddressBook, deriver: AddressDeriver, alice: int
) -> None:
    checked = book.check(alice, "ETH", "ETH", ETH_ADDRESS.lower(), label="x")
    assert checked.address == ETH_ADDRESS and rows(engine) == 0 and audit(engine) == []
    for index in range(MAX_ENTRIES_PER_USER):
        add(book, alice, "ETH", "ETH", deriver.derive(AddressFamily.ETHEREUM, index).address)
    with pytest.raises(AddressBookChangeRefused) as full:
        add(book, alice, "ETH", "ETH", ETH_ADDRESS)
    assert f"full ({MAX_ENTRIES_PER_USER} addresses)" in full.value.msg
    assert rows(engine) == MAX_ENTRIES_PER_USER


def test_a_negative_cooling_off_is_a_configuration_error(engine: Engine) -> None:
    with pytest.raises(ValueError, match="negative"):
        AddressBook(engine, cooling_off_ms=-1)
