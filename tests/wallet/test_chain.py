"""The simulated chain: deposits to our addresses only, confirmations by block time, sends with txids."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from bip_utils import Base58Decoder
from sqlalchemy import Engine, func, select

from keyplane.exchange.wallet.chain import Chain, SimulatedChain
from keyplane.exchange.wallet.errors import (
    AmbiguousDeposit,
    ChainAmountInvalid,
    ForeignAddress,
    InvalidAddress,
    InvalidMemo,
    SendConflict,
    UnknownAsset,
    UnknownTransaction,
)
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.exchange.wallet.models import SendRequest
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS
from keyplane.exchange.wallet.states import (
    ChainTxStatus,
    DepositStatus,
    Direction,
    WithdrawStatus,
    deposit_status,
    withdraw_status_of_send,
)
from keyplane.store.wallet_tables import wallet_chain_transactions
from tests.wallet.conftest import BLOCKS, T0, Clock

ELSEWHERE_BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
ELSEWHERE_ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(wallet_chain_transactions)).scalar_one())


def test_the_simulation_is_a_chain(chain: SimulatedChain) -> None:
    as_protocol: Chain = chain  # mypy checks the signatures, isinstance the methods
    assert isinstance(as_protocol, Chain)


def test_a_deposit_to_an_address_we_never_issued_is_refused(
    engine: Engine, chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    addresses.get(alice, "BTC")
    for address, network in ((ELSEWHERE_BTC, "BTC"), (ELSEWHERE_BTC, None), ("not an address", None)):
        with pytest.raises(ForeignAddress) as refused:
            chain.deposit(address, D("0.5"), network)
        assert "not a deposit address of this exchange" in refused.value.msg
    with pytest.raises(ForeignAddress):  # ours on BTC, but not on ETH
        chain.deposit(addresses.get(alice, "BTC").address, D(1), "ETH")
    assert rows(engine) == 0


def test_a_deposit_gains_one_confirmation_per_block_and_settles_at_unlock(
    chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    btc = DEFAULT_NETWORKS.get("BTC")
    tx = chain.deposit(addresses.get(alice, "BTC").address, D("0.5"))
    assert (tx.network, tx.coin, tx.direction, tx.status) == (
        "BTC",
        "BTC",
        Direction.IN,
        ChainTxStatus.PENDING,
    )
    assert (tx.confirmations, tx.required_confirmations, tx.amount) == (0, btc.unlock_confirm, D("0.5"))
    assert re.fullmatch("[0-9a-f]{64}", tx.txid)
    assert chain.advance(T0 + BLOCKS["BTC"] - 1) == []

    (one,) = chain.advance(T0 + BLOCKS["BTC"])
    assert one.confirmations == 1 and one.status is ChainTxStatus.PENDING
    assert (
        deposit_status(one.status, 1, btc.min_confirm, btc.unlock_confirm, credited=False)
        is DepositStatus.PENDING
    )
    assert (
        deposit_status(one.status, 1, btc.min_confirm, btc.unlock_confirm, credited=True)
        is DepositStatus.CREDITED_CANNOT_WITHDRAW
    )
    (two,) = chain.advance(T0 + 2 * BLOCKS["BTC"])
    assert two.confirmations == 2 and two.status is ChainTxStatus.CONFIRMED
    assert (
        deposit_status(two.status, 2, btc.min_confirm, btc.unlock_confirm, credited=True)
        is DepositStatus.SUCCESS
    )
    assert chain.advance(T0 + 50 * BLOCKS["BTC"]) == []  # settled: no longer followed
    assert chain.incoming() == [two]


def test_a_late_timer_catches_up_and_an_early_one_never_takes_confirmations_back(
    chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    tx = chain.deposit(addresses.get(alice, "ETH").address, D("1.25"))
    (late,) = chain.advance(T0 + 7 * BLOCKS["ETH"] + 5)
    assert late.confirmations == 7 and late.status is ChainTxStatus.PENDING
    assert chain.advance(T0 + 3 * BLOCKS["ETH"]) == []
    (done,) = chain.advance(T0 + 40 * BLOCKS["ETH"])
    assert done.id == tx.id and done.confirmations == 40 and done.status is ChainTxStatus.CONFIRMED


def test_ethereum_deposits_take_any_spelling_and_name_the_coin_when_two_share_the_address(
    chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    address = addresses.get(alice, "ETH").address
    tx = chain.deposit(address.lower(), D(2), "ETH")
    assert (tx.coin, tx.address) == ("ETH", address)
    assert re.fullmatch("0x[0-9a-f]{64}", tx.txid)
    assert chain.deposit(address, D(5), coin="USDT").coin == "USDT"  # tokens arrive at the same address
    addresses.get(alice, "USDT")
    with pytest.raises(AmbiguousDeposit) as ambiguous:
        chain.deposit(address, D(5))
    assert "ETH and USDT" in ambiguous.value.msg
    with pytest.raises(UnknownAsset):
        chain.deposit(address, D(5), coin="DOGE")


def test_amounts_the_network_cannot_carry_and_memos_are_refused(
    engine: Engine, chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    eth_address = addresses.get(alice, "USDT").address
    btc_address = addresses.get(alice, "BTC").address
    for address, amount, coin in (
        (eth_address, D("1.0000001"), "USDT"),  # ERC-20 USDT has 6 decimals
        (btc_address, D("0.000000001"), None),
        (btc_address, D(0), None),
        (btc_address, D(-1), None),
        (btc_address, D("NaN"), None),
    ):
        with pytest.raises(ChainAmountInvalid):
            chain.deposit(address, amount, coin=coin)
    with pytest.raises(InvalidMemo):
        chain.deposit(btc_address, D(1), memo="123")
    assert chain.deposit(eth_address, D("1.000001"), coin="USDT").amount == D("1.000001")
    assert rows(engine) == 1


def test_solana_deposits_and_sends_carry_signature_txids(
    chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    tx = chain.deposit(addresses.get(alice, "SOL").address, D("3.5"))
    assert len(Base58Decoder.Decode(tx.txid)) == 64
    txid = chain.send(
        SendRequest(
            withdrawal_id="w-sol",
            coin="SOL",
            network="SOL",
            address="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
            amount=D(1),
        )
    )
    assert len(Base58Decoder.Decode(txid)) == 64


def _request(**change: object) -> SendRequest:
    fields: dict[str, object] = {
        "withdrawal_id": "w-1",
        "coin": "BTC",
        "network": "BTC",
        "address": ELSEWHERE_BTC.upper(),
        "amount": D("0.0998"),
    }
    fields.update(change)
    return SendRequest(**fields)


def test_a_send_gets_a_txid_and_completes_at_min_confirm(chain: SimulatedChain) -> None:
    txid = chain.send(_request())
    sent = chain.sent("w-1")
    assert sent is not None and sent.txid == txid and sent.address == ELSEWHERE_BTC  # canonical spelling
    assert (sent.direction, sent.status, sent.required_confirmations) == (
        Direction.OUT,
        ChainTxStatus.PENDING,
        1,
    )
    assert withdraw_status_of_send(sent.status) is WithdrawStatus.PROCESSING
    (done,) = chain.advance(T0 + BLOCKS["BTC"])
    assert done.txid == txid and withdraw_status_of_send(done.status) is WithdrawStatus.COMPLETED
    assert chain.incoming() == []


def test_sending_the_same_withdrawal_twice_broadcasts_once(engine: Engine, chain: SimulatedChain) -> None:
    first = chain.send(_request())
    assert chain.send(_request(address=ELSEWHERE_BTC)) == first  # another spelling of the same address
    assert rows(engine) == 1
    with pytest.raises(SendConflict):
        chain.send(_request(amount=D("0.5")))
    with ThreadPoolExecutor(max_workers=8) as pool:
        txids = set(pool.map(lambda _: chain.send(_request(withdrawal_id="w-2")), range(16)))
    assert len(txids) == 1 and rows(engine) == 2


def test_a_send_that_cannot_be_made_writes_nothing(engine: Engine, chain: SimulatedChain) -> None:
    with pytest.raises(InvalidAddress):
        chain.send(_request(address="bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"))
    with pytest.raises(ChainAmountInvalid):
        chain.send(_request(amount=D("0.000000001")))
    with pytest.raises(UnknownAsset):
        chain.send(_request(coin="DOGE"))
    with pytest.raises(InvalidMemo):
        chain.send(_request(memo="1"))
    assert rows(engine) == 0 and chain.sent("w-1") is None


def test_a_dropped_send_fails_and_only_a_pending_send_can(
    chain: SimulatedChain, addresses: DepositAddresses, clock: Clock, alice: int
) -> None:
    txid = chain.send(_request(coin="ETH", network="ETH", address=ELSEWHERE_ETH.lower(), amount=D("0.5")))
    clock.t += 5
    failed = chain.fail("ETH", txid, "dropped from the mempool")
    assert failed.status is ChainTxStatus.FAILED and failed.failure_reason == "dropped from the mempool"
    assert withdraw_status_of_send(failed.status) is WithdrawStatus.FAILURE and failed.updated_at == T0 + 5
    assert chain.advance(T0 + 100 * BLOCKS["ETH"]) == []  # a failed send gets no confirmations
    with pytest.raises(UnknownTransaction):
        chain.fail("ETH", txid, "again")
    deposit = chain.deposit(addresses.get(alice, "ETH").address, D(1))
    with pytest.raises(UnknownTransaction):
        chain.fail("ETH", deposit.txid, "a deposit is not ours to drop")


def test_every_change_is_seen_once_in_seq_order_by_a_consumer_that_resumes(
    engine: Engine, chain: SimulatedChain, addresses: DepositAddresses, clock: Clock, alice: int
) -> None:
    deposit = chain.deposit(addresses.get(alice, "BTC").address, D(1))
    send = chain.send(_request())
    seen = chain.changes(0)
    assert [(t.txid, t.confirmations) for t in seen] == [(deposit.txid, 0), (send, 0)]
    cursor = seen[-1].seq
    assert chain.changes(cursor) == []
    chain.advance(T0 + BLOCKS["BTC"])
    later = chain.changes(cursor)
    assert {(t.txid, t.confirmations) for t in later} == {(deposit.txid, 1), (send, 1)}
    assert [t.seq for t in later] == sorted(t.seq for t in later) and later[0].seq > cursor
    assert chain.changes(0, limit=1) == [later[0]]


def test_another_instance_sees_the_same_chain(
    engine: Engine, chain: SimulatedChain, addresses: DepositAddresses, clock: Clock, alice: int
) -> None:
    tx = chain.deposit(addresses.get(alice, "SOL").address, D(2))
    other = SimulatedChain(engine, block_interval_ms=BLOCKS, now=clock)
    assert other.transactions("SOL", tx.txid) == [tx]
    (advanced,) = other.advance(T0 + 3 * BLOCKS["SOL"])
    assert chain.incoming(network="SOL", address=tx.address) == [advanced]


def test_concurrent_deposits_each_get_their_own_seq(
    engine: Engine, chain: SimulatedChain, addresses: DepositAddresses, alice: int
) -> None:
    address = addresses.get(alice, "BTC").address
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda i: chain.deposit(address, D(i + 1)), range(24)))
    assert sorted(t.seq for t in made) == list(range(1, 25))
    assert sorted(t.amount for t in chain.incoming()) == [D(i + 1) for i in range(24)]
