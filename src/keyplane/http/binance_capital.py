"""Binance's capital routes for moving funds: withdraw/apply, withdraw/history, deposit/hisrec.

A withdrawal is the one request that can empty an account, so it is checked twice over: the key
must hold ``withdraw`` and an IP allowlist (and the request come from an allowed address, which
the verifier checks), then the exchange applies every wallet rule in its sequencer. Every
acceptance and every refusal is an audit event, with the rule that refused it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.wallet.commands import WithdrawalPolicy
from keyplane.exchange.wallet.errors import WalletError
from keyplane.exchange.wallet.states import DepositStatus, WithdrawStatus, deposit_status
from keyplane.exchange.wallet.transfers import Withdrawal, WithdrawalRequest
from keyplane.http import binance_params as p
from keyplane.http import binance_wallet
from keyplane.http.binance_market import exchange
from keyplane.http.routing import Call, Route, Security
from keyplane.keys.errors import RequestRefused
from keyplane.keys.model import Permission
from keyplane.store import key_repo, wallet_transfer_repo

DAY_MS = 24 * 3600 * 1000
HISTORY_SPAN_MS = 90 * DAY_MS
ORDER_ID_MAX = 64


def _when(ms: int | None) -> str:
    """Binance's withdraw-history times: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _audit(call: Call, action: str, detail: dict[str, Any]) -> None:
    assert call.key is not None
    key_repo.record_audit(
        call.parts.platform.engine,
        actor=f"key:{call.key.key_id}",
        action=action,
        user_id=call.user_id,
        key_id=call.key.key_id,
        source_ip=call.client_ip,
        detail=detail,
    )


def _request(call: Call) -> WithdrawalRequest:
    q = call.params
    assert call.key is not None
    if not call.key.ip_allowlist:
        raise RequestRefused("This API key has no IP allowlist: withdrawals need one.")
    amount = p.decimal(q, "amount")
    if amount is None:
        raise InvalidParameter.missing("amount")
    order_id = p.optional(q, "withdrawOrderId")
    if order_id is not None and (len(order_id) > ORDER_ID_MAX or not order_id.isascii()):
        raise InvalidParameter.invalid("withdrawOrderId")
    if p.integer(q, "walletType") not in (None, 0):
        raise InvalidParameter("Only the spot wallet (walletType=0) can withdraw here.", -1130)
    if p.boolean(q, "transactionFeeFlag"):
        raise InvalidParameter("transactionFeeFlag=true (fee taken from the amount) is not supported.", -1130)
    return WithdrawalRequest(
        user_id=call.user_id,
        coin=p.required(q, "coin").upper(),
        network=p.optional(q, "network"),
        address=p.required(q, "address"),
        memo=p.optional(q, "addressTag") or "",
        amount=amount,
        withdraw_order_id=order_id,
        key_id=call.key.key_id,
        source_ip=call.client_ip,
    )


async def withdraw(call: Call) -> dict[str, str]:
    settings = call.parts.platform.settings
    parts = binance_wallet.wallet(call)
    detail: dict[str, Any] = {k: call.params.get(k) for k in ("coin", "network", "amount", "withdrawOrderId")}
    try:
        req = _request(call)
        policy = WithdrawalPolicy(
            networks=parts.networks,
            book=parts.book,
            daily_limit_usdt=Decimal(settings.withdraw_limit_usdt_24h),
        )
        wid = await exchange(call).withdraw(req, policy)
    except (WalletError, InvalidParameter, RequestRefused) as refused:
        await asyncio.to_thread(
            _audit, call, "wallet.withdraw.refused", {**detail, "code": refused.code, "reason": refused.msg}
        )
        raise
    await asyncio.to_thread(_audit, call, "wallet.withdraw.accepted", {**detail, "id": wid})
    return {"id": str(wid)}


def _window(call: Call) -> tuple[int, int]:
    now = now_ms()
    start, end = p.integer(call.params, "startTime"), p.integer(call.params, "endTime")
    if end is None:
        end = now if start is None else min(now, start + HISTORY_SPAN_MS)
    if start is None:
        start = end - HISTORY_SPAN_MS
    if end < start or end - start > HISTORY_SPAN_MS:
        raise InvalidParameter(
            "The time window must be at most 90 days, with startTime before endTime.", -1128
        )
    return start, end


def _paging(call: Call) -> tuple[int, int]:
    offset = p.integer(call.params, "offset") or 0
    limit = p.integer(call.params, "limit") or 1000
    if limit <= 0:
        raise InvalidParameter.invalid("limit")
    return offset, min(limit, 1000)


def _withdrawal_json(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.public_id,
        "amount": fmt(w.amount),
        "transactionFee": fmt(w.fee),
        "coin": w.coin,
        "status": int(w.status),
        "address": w.address,
        "addressTag": w.memo,
        "txId": w.txid or "",
        "applyTime": _when(w.apply_time),
        "network": w.network,
        "transferType": 0,
        "withdrawOrderId": w.withdraw_order_id or "",
        "info": w.info,
        "confirmNo": 0,
        "walletType": 0,
        "txKey": "",
        "completeTime": _when(w.complete_time),
    }


async def withdraw_history(call: Call) -> list[dict[str, Any]]:
    q = call.params
    status = p.integer(q, "status")
    if status is not None and status not in {int(s) for s in WithdrawStatus}:
        raise InvalidParameter.invalid("status")
    raw_ids = p.optional(q, "idList")
    ids = None
    if raw_ids is not None:
        parts = raw_ids.split(",")
        if len(parts) > 45 or not all(x.isascii() and x.isdigit() and len(x) <= 18 for x in parts):
            raise InvalidParameter.invalid("idList")
        ids = [int(x) for x in parts]
    start, end = _window(call)
    offset, limit = _paging(call)
    coin = p.optional(q, "coin")

    def read() -> list[Withdrawal]:
        with call.parts.platform.engine.connect() as conn:
            return wallet_transfer_repo.withdrawal_history(
                conn,
                call.user_id,
                coin=coin.upper() if coin else None,
                withdraw_order_id=p.optional(q, "withdrawOrderId"),
                status=status,
                ids=ids,
                start=start,
                end=end,
                offset=offset,
                limit=limit,
            )

    return [_withdrawal_json(w) for w in await asyncio.to_thread(read)]


async def deposit_history(call: Call) -> list[dict[str, Any]]:
    q = call.params
    parts = binance_wallet.wallet(call)
    status = p.integer(q, "status")
    if status is not None and status not in {int(s) for s in DepositStatus}:
        raise InvalidParameter.invalid("status")
    start, end = _window(call)
    offset, limit = _paging(call)
    coin = p.optional(q, "coin")

    def read() -> list[dict[str, Any]]:
        with call.parts.platform.engine.connect() as conn:
            found = wallet_transfer_repo.incoming_of(
                conn,
                call.user_id,
                coin=coin.upper() if coin else None,
                txid=p.optional(q, "txId"),
                start=start,
                end=end,
            )
        rows: list[dict[str, Any]] = []
        for tx, credit in found:
            spec = parts.networks.get(tx.coin, tx.network)
            state = deposit_status(
                tx.status, tx.confirmations, spec.min_confirm, spec.unlock_confirm, credit is not None
            )
            if status is not None and int(state) != status:
                continue
            rows.append(
                {
                    "id": str(tx.id),
                    "amount": fmt(credit.amount if credit is not None else tx.amount),
                    "coin": tx.coin,
                    "network": tx.network,
                    "status": int(state),
                    "address": tx.address,
                    "addressTag": tx.memo,
                    "txId": tx.txid,
                    "insertTime": tx.created_at,
                    "completeTime": credit.credited_at if credit is not None else 0,
                    "transferType": 0,
                    "confirmTimes": f"{min(tx.confirmations, spec.unlock_confirm)}/{spec.unlock_confirm}",
                    "unlockConfirm": spec.unlock_confirm,
                    "walletType": 0,
                }
            )
        return rows[offset : offset + limit]

    return await asyncio.to_thread(read)


SIGNED = Security.SIGNED
# Binance's weights: apply 600 (UID), history 18 / 1 (IP).
CAPITAL_ROUTES: list[Route] = [
    Route(
        "POST",
        "/sapi/v1/capital/withdraw/apply",
        withdraw,
        SIGNED,
        Permission.WITHDRAW,
        600,
        None,
        on_exchange=True,
    ),
    Route(
        "GET",
        "/sapi/v1/capital/withdraw/history",
        withdraw_history,
        SIGNED,
        Permission.READ,
        18,
        None,
        on_exchange=True,
    ),
    Route(
        "GET",
        "/sapi/v1/capital/deposit/hisrec",
        deposit_history,
        SIGNED,
        Permission.READ,
        1,
        None,
        on_exchange=True,
    ),
]
