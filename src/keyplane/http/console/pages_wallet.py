"""The wallet page: deposit addresses with QR codes, the withdrawal-address book, demo deposits.

Adding a withdrawal address needs a fresh TOTP code, always (whatever the platform's rule for
keys): it is the step a thief needs most. The address is checked first, so a typo costs no code.
Removing needs none: it can only make withdrawals harder. Every change is audited by the book.

The QR codes are made here (segno, as for TOTP enrolment): no address leaves the server to be drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.clock import now_ms
from keyplane.exchange.amounts import read_amount
from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.wallet.address_book import BookedAddress, EntryStatus, utc
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.commands import WithdrawalPolicy
from keyplane.exchange.wallet.errors import WalletError
from keyplane.exchange.wallet.parts import WalletParts
from keyplane.exchange.wallet.states import deposit_status
from keyplane.exchange.wallet.transfers import WithdrawalRequest
from keyplane.http.console.auth import Viewer, action, error_page, page, platform_of, step_up
from keyplane.http.console.forms import ascii_count, text
from keyplane.http.console.web import BASE, KNOWN_ERRORS, ConsoleError, describe, redirect, render, run
from keyplane.http.forwarding import on_exchange
from keyplane.identity.totp import qr_svg
from keyplane.runtime import Platform
from keyplane.store import key_repo, wallet_transfer_repo

WALLET = f"{BASE}/wallet"
NOTICES = {
    "added": "The address was added. It is pending until its cooling-off ends; then withdrawals may use it.",
    "removed": "The address was removed from your address book.",
    "deposited": "The simulated deposit is on the chain; it is credited after its confirmations.",
    "withdrawn": "The withdrawal was accepted; its amount and fee are locked until it is sent.",
    "cancelled": "The withdrawal was cancelled and its funds returned.",
}
HISTORY_MS = 90 * 24 * 3600 * 1000
HISTORY_ROWS = 50
PAGE_ERRORS = (*KNOWN_ERRORS, WalletError, ExchangeError)
MAX_ENTRY_ID = 2**31 - 1  # the id column's range: a larger number names no entry


@dataclass(frozen=True)
class DepositRow:
    coin: str
    network: str
    network_name: str
    address: str
    memo: str
    url: str
    confirmations: int
    qr_svg: str

    @property
    def choice(self) -> str:
        return f"{self.coin}:{self.network}"


@dataclass(frozen=True)
class BookRow:
    id: int
    label: str
    coin: str
    network: str
    address: str
    memo: str
    checksummed: bool
    pending: bool
    added: str
    matures: str


def _wallet(request: Request) -> WalletParts:
    parts = platform_of(request).wallet
    if parts is None:
        raise ConsoleError("The wallet is not available on this server.", 503)
    return parts


def _deposit_rows(parts: WalletParts, user_id: int) -> list[DepositRow]:
    """The user's deposit address on every open network, issued on first view (as Binance does)."""
    if parts.addresses is None:
        return []
    rows = []
    for entry in parts.networks.entries():
        if not entry.deposit_enable:
            continue
        issued = parts.deposit_address(user_id, entry.coin, entry.code)
        spec = entry.network
        rows.append(
            DepositRow(
                coin=entry.coin,
                network=entry.code,
                network_name=spec.name,
                address=issued.address,
                memo=issued.memo,
                url=spec.address_url.format(address=issued.address) if spec.address_url else "",
                confirmations=entry.min_confirm,
                qr_svg=qr_svg(issued.address),
            )
        )
    return rows


def _book_row(booked: BookedAddress) -> BookRow:
    entry = booked.entry
    return BookRow(
        id=entry.id,
        label=entry.label,
        coin=entry.coin,
        network=entry.network,
        address=entry.address,
        memo=entry.memo,
        checksummed=entry.checksummed,
        pending=booked.status is EntryStatus.PENDING,
        added=utc(entry.added_at),
        matures=utc(booked.matures_at),
    )


@dataclass(frozen=True)
class WithdrawalRow:
    id: int
    coin: str
    network: str
    address: str
    amount: str
    fee: str
    status: str
    txid: str
    applied: str
    cancellable: bool


@dataclass(frozen=True)
class DepositHistoryRow:
    coin: str
    network: str
    amount: str
    status: str
    confirmations: str
    txid: str
    at: str


def _history_context(parts: WalletParts, engine: Engine, user_id: int) -> dict[str, object]:
    """The last 90 days of withdrawals and deposits, and the matured destinations a withdrawal may use."""
    now = now_ms()
    with engine.connect() as conn:
        sent = wallet_transfer_repo.withdrawal_history(
            conn,
            user_id,
            coin=None,
            withdraw_order_id=None,
            status=None,
            ids=None,
            start=now - HISTORY_MS,
            end=now,
            offset=0,
            limit=HISTORY_ROWS,
        )
        received = wallet_transfer_repo.incoming_of(
            conn, user_id, coin=None, txid=None, start=now - HISTORY_MS, end=now
        )
    deposits = []
    for tx, credit in received[:HISTORY_ROWS]:
        spec = parts.networks.get(tx.coin, tx.network)
        state = deposit_status(
            tx.status, tx.confirmations, spec.min_confirm, spec.unlock_confirm, credit is not None
        )
        deposits.append(
            DepositHistoryRow(
                coin=tx.coin,
                network=tx.network,
                amount=fmt(tx.amount),
                status=state.name.replace("_", " ").lower(),
                confirmations=f"{min(tx.confirmations, spec.unlock_confirm)}/{spec.unlock_confirm}",
                txid=tx.txid,
                at=utc(tx.created_at),
            )
        )
    withdrawals = [
        WithdrawalRow(
            id=w.id,
            coin=w.coin,
            network=w.network,
            address=w.address,
            amount=fmt(w.amount),
            fee=fmt(w.fee),
            status=w.status.name.replace("_", " ").lower(),
            txid=w.txid or "",
            applied=utc(w.apply_time),
            cancellable=w.status.cancellable,
        )
        for w in sent
    ]
    matured = [b for b in parts.book.entries(user_id, now) if b.status is EntryStatus.MATURED]
    return {
        "withdrawals": withdrawals,
        "deposit_history": deposits,
        "withdraw_from": [
            (b.entry.id, f"{b.entry.label or b.entry.address} ({b.entry.coin} on {b.entry.network})")
            for b in matured
        ],
    }


def _cooling_off(parts: WalletParts) -> str:
    seconds = parts.book.cooling_off_ms // 1000
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} hours"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _read_page(parts: WalletParts, engine: Engine, user_id: int) -> dict[str, object]:
    return {
        "deposits": _deposit_rows(parts, user_id),
        "book": [_book_row(b) for b in parts.book.entries(user_id)],
        **_history_context(parts, engine, user_id),
    }


async def _wallet_page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    platform = platform_of(request)
    parts = _wallet(request)
    read = await run(_read_page, parts, platform.engine, viewer.user_id)
    entries = parts.networks.entries()
    return render(
        "wallet.html",
        {
            "title": "Wallet",
            "nav": "wallet",
            "viewer": viewer,
            "csrf": viewer.csrf,
            **read,
            "deposits_configured": parts.addresses is not None,
            "choices": [(f"{e.coin}:{e.code}", f"{e.coin} on {e.network.name}") for e in entries],
            "uses_memo": any(e.network.uses_memo for e in entries),
            "can_add": viewer.user.two_factor_enabled,
            "cooling_off": _cooling_off(parts),
            "demo": platform.settings.demo_mode and isinstance(parts.chain, SimulatedChain),
            "values": context.pop("values", None) or {},
            "notice": NOTICES.get(request.query_params.get("notice", "")),
            **context,
        },
        status,
    )


def _choice(form: FormData) -> tuple[str, str]:
    coin, _, network = text(form, "destination").partition(":")
    if not coin or not network:
        raise ConsoleError("Choose the asset and the network.")
    return coin, network


def _refusal(error: Exception) -> tuple[str, int]:
    if isinstance(error, WalletError):
        return error.msg, error.status
    if isinstance(error, ExchangeError):
        return error.msg, 400
    return describe(error)  # type: ignore[arg-type]


@page
async def wallet_page(request: Request, viewer: Viewer) -> Response:
    return await _wallet_page(request, viewer)


@action
async def add_address(request: Request, viewer: Viewer, form: FormData) -> Response:
    parts = _wallet(request)
    fields = {name: text(form, name) for name in ("destination", "address", "memo", "label")}
    try:
        if not viewer.user.two_factor_enabled:
            raise ConsoleError(
                "Turn on two-factor authentication in Security settings to add withdrawal addresses.", 403
            )
        coin, network = _choice(form)
        address, memo, label = fields["address"].strip(), fields["memo"].strip(), fields["label"]
        await run(parts.book.check, viewer.user_id, coin, network, address, memo, label)
        await step_up(request, viewer, text(form, "totp_code"), "add_withdraw_address")
        await run(
            parts.book.add,
            viewer.user_id,
            coin,
            network,
            address,
            memo,
            label,
            actor=f"user:{viewer.user_id}",
            source_ip=viewer.ip,
        )
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message, values=fields)
    return redirect(f"{WALLET}?notice=added")


@action
async def remove_address(request: Request, viewer: Viewer, form: FormData) -> Response:
    parts = _wallet(request)
    entry_id = ascii_count(request.path_params["entry_id"])
    try:
        if entry_id is None or entry_id > MAX_ENTRY_ID:
            raise ConsoleError("No such address in your withdrawal address book.", 404)
        await run(
            parts.book.remove, viewer.user_id, entry_id, actor=f"user:{viewer.user_id}", source_ip=viewer.ip
        )
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message)
    return redirect(f"{WALLET}?notice=removed")


async def _withdraw(request: Request, viewer: Viewer, form: FormData) -> Response:
    """A withdrawal to a matured address-book entry, confirmed with a fresh TOTP code."""
    platform = platform_of(request)
    parts = _wallet(request)
    fields = {"amount": text(form, "amount")}
    try:
        entry_id = ascii_count(text(form, "entry"))
        entry = await run(parts.book.entry, viewer.user_id, entry_id) if entry_id is not None else None
        if entry is None:
            raise ConsoleError("Choose a destination from your address book.", 400)
        amount = read_amount(fields["amount"].strip())
        # A destination still cooling off is refused before the code is checked: it costs no code.
        await run(
            parts.book.matured_entry,
            viewer.user_id,
            entry.coin,
            entry.network,
            entry.address,
            entry.memo,
            now_ms(),
        )
        await step_up(request, viewer, text(form, "totp_code"), "withdraw")
        request_ = WithdrawalRequest(
            user_id=viewer.user_id,
            coin=entry.coin,
            network=entry.network,
            address=entry.address,
            memo=entry.memo,
            amount=amount,
            withdraw_order_id=None,
            key_id=None,
            source_ip=viewer.ip,
        )
        policy = WithdrawalPolicy(
            networks=parts.networks,
            book=parts.book,
            daily_limit_usdt=platform.settings.withdraw_limit_usdt_24h,
        )
        wid = await platform.exchange.withdraw(request_, policy)
        await run(_audit, platform, viewer, "wallet.withdraw.accepted", {"id": wid, "amount": str(amount)})
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        await run(_audit, platform, viewer, "wallet.withdraw.refused", {"reason": message, **fields})
        return await _wallet_page(request, viewer, status, error=message, values=fields)
    return redirect(f"{WALLET}?notice=withdrawn")


async def _cancel_withdrawal(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    withdrawal_id = ascii_count(request.path_params["withdrawal_id"])
    try:
        if withdrawal_id is None:
            raise ConsoleError("There is no such withdrawal in this account.", 404)
        await platform.exchange.cancel_withdrawal(viewer.user_id, withdrawal_id)
        await run(_audit, platform, viewer, "wallet.withdraw.cancelled", {"id": withdrawal_id})
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message)
    return redirect(f"{WALLET}?notice=cancelled")


def _audit(platform: Platform, viewer: Viewer, action_name: str, detail: dict[str, object]) -> None:
    key_repo.record_audit(
        platform.engine,
        actor=f"user:{viewer.user_id}",
        action=action_name,
        user_id=viewer.user_id,
        key_id=None,
        source_ip=viewer.ip,
        detail=detail,
    )


def _unavailable(error: Exception) -> Response:
    return error_page(None, error)


# Withdrawing and cancelling are exchange commands: another instance forwards them to its writer.
withdraw = on_exchange(action(_withdraw), _unavailable)
cancel_withdrawal = on_exchange(action(_cancel_withdrawal), _unavailable)


@action
async def simulate_deposit(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Demo mode only: someone pays the user's own deposit address on the simulated chain."""
    platform = platform_of(request)
    parts = _wallet(request)
    chain = parts.chain
    if not platform.settings.demo_mode or not isinstance(chain, SimulatedChain):
        raise ConsoleError("Simulated deposits exist only in demo mode.", 403)
    try:
        coin, network = _choice(form)
        amount = read_amount(text(form, "amount").strip())
        # The user's own address, looked up here: the form names only the coin and network.
        issued = await run(parts.deposit_address, viewer.user_id, coin, network)
        await run(chain.deposit, issued.address, amount, issued.network, coin=issued.coin, memo=issued.memo)
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message)
    return redirect(f"{WALLET}?notice=deposited")
