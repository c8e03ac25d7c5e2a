"""History records in, realized gains out.

Everything is valued in one report currency (a stablecoin or fiat such as USDT); units of that
currency are cash, never lots. A trade that sends a crypto asset disposes of it at the trade's
value; a trade that receives one acquires a lot at that value. Fees:

- in the received asset: fewer units arrive (the lot is the net quantity);
- in the report currency: only a value;
- in any other asset (the sent asset, a third asset such as BNB): those units are disposed of at
  market value, a ``fee`` disposal with its own gain or loss.

With ``fees_in_basis`` the fee's value raises the acquired lot's cost, or, when the trade receives
the report currency, lowers the proceeds (rotki's ``include_fees_in_cost_basis``). Without it the
fee is a separate expense row and the lot and proceeds carry the trade's value alone. Across a
full round trip both settings give the same net result; they differ in how it is classified.

Deposits and withdrawals are transfers of the owner's own units: a withdrawal keeps the lots (the
units still belong to the owner) and only its network fee is spent; a deposit whose transaction id
matches a seen withdrawal adds nothing, any other deposit is a new lot at market value at arrival.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from keyplane.client.gains.errors import NoPrice
from keyplane.client.gains.lots import ZERO, Method, Pool
from keyplane.client.gains.prices import PriceSource
from keyplane.client.history.records import Kind, Record, sort_key


@dataclass(kw_only=True, frozen=True, slots=True)
class Disposal:
    """Units leaving the owner's holdings for value: a sale, a swap leg, or a fee paid in kind."""

    time_ms: int
    account: str
    ref: str
    kind: str  # "sale" or "fee"
    asset: str
    quantity: Decimal
    proceeds: Decimal
    basis: Decimal
    acquired_from_ms: int | None
    acquired_to_ms: int | None
    unknown_quantity: Decimal = ZERO

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.basis


@dataclass(kw_only=True, frozen=True, slots=True)
class Expense:
    """A fee booked apart from cost basis (``--fees-separate``, and every withdrawal fee)."""

    time_ms: int
    account: str
    ref: str
    asset: str
    amount: Decimal
    value: Decimal


@dataclass
class Result:
    method: Method
    report: str
    fees_in_basis: bool
    disposals: list[Disposal] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    holdings: dict[str, Pool] = field(default_factory=dict)


class Calculator:
    """One pass over the history; ``compute`` is the entry point."""

    def __init__(self, method: Method, report: str, prices: PriceSource, fees_in_basis: bool) -> None:
        self.result = Result(method, report, fees_in_basis)
        self.prices = prices
        self.withdrawn_txids: set[tuple[str, str]] = set()

    def pool(self, asset: str) -> Pool:
        return self.result.holdings.setdefault(asset, Pool(self.result.method))

    def value(self, asset: str, amount: Decimal, at_ms: int) -> Decimal:
        if asset == self.result.report:
            return amount
        price = self.prices.price(asset, at_ms)
        if price is None:
            raise NoPrice(f"no price of {asset} in {self.result.report} near {at_ms} ms (UTC)")
        return amount * price

    def dispose(self, r: Record, kind: str, asset: str, quantity: Decimal, proceeds: Decimal) -> None:
        taken = self.pool(asset).take(quantity)
        if taken.unknown > 0:
            self.result.warnings.append(
                f"{r.account} {r.ref}: {taken.unknown} {asset} left with no known acquisition; basis 0"
            )
        self.result.disposals.append(
            Disposal(
                time_ms=r.time_ms,
                account=r.account,
                ref=r.ref,
                kind=kind,
                asset=asset,
                quantity=quantity,
                proceeds=proceeds,
                basis=taken.basis,
                acquired_from_ms=taken.first_acquired_ms,
                acquired_to_ms=taken.last_acquired_ms,
                unknown_quantity=taken.unknown,
            )
        )

    def expense(self, r: Record, asset: str, amount: Decimal, value: Decimal) -> None:
        self.result.expenses.append(
            Expense(time_ms=r.time_ms, account=r.account, ref=r.ref, asset=asset, amount=amount, value=value)
        )

    def pay_fee_in_kind(self, r: Record, fee_value: Decimal) -> None:
        """Fee units of an asset other than the report currency leave the holdings at market value."""
        if r.fee_asset and r.fee_amount and r.fee_asset != self.result.report:
            self.dispose(r, "fee", r.fee_asset, r.fee_amount, fee_value)

    def trade(self, r: Record) -> None:
        report = self.result.report
        sent, s_amt = r.sent_asset or report, r.sent_amount or ZERO
        got, g_amt = r.received_asset or report, r.received_amount or ZERO
        if sent == report:
            worth = s_amt
        elif got == report:
            worth = g_amt
        else:
            worth = self.value(sent, s_amt, r.time_ms)
        fee_asset, fee_amt = r.fee_asset, r.fee_amount or ZERO
        fee_value = ZERO
        if fee_asset and fee_amt:
            if fee_asset == got and g_amt:
                fee_value = worth * fee_amt / g_amt
            elif fee_asset == sent and s_amt:
                fee_value = worth * fee_amt / s_amt
            else:
                fee_value = self.value(fee_asset, fee_amt, r.time_ms)
        fee_in_received = fee_asset == got
        proceeds, cost = worth, worth
        if self.result.fees_in_basis:
            if got != report:
                cost = worth if fee_in_received else worth + fee_value
            else:
                proceeds = worth - fee_value
        else:
            if fee_value:
                self.expense(r, fee_asset or report, fee_amt, fee_value)
            if fee_in_received:
                cost = worth - fee_value
        if sent != report and s_amt:
            self.dispose(r, "sale", sent, s_amt, proceeds)
        if not fee_in_received:
            self.pay_fee_in_kind(r, fee_value)
        if got != report:
            net = g_amt - fee_amt if fee_in_received else g_amt
            self.pool(got).add(net, cost, r.time_ms)

    def deposit(self, r: Record) -> None:
        asset, amount = r.received_asset, r.received_amount or ZERO
        if not asset or asset == self.result.report or not amount:
            return
        if r.txid and (asset, r.txid) in self.withdrawn_txids:
            return  # our own units coming back from another of our accounts
        try:
            cost = self.value(asset, amount, r.time_ms)
        except NoPrice:
            cost = ZERO
            self.result.warnings.append(f"{r.account} {r.ref}: no price for deposited {asset}; basis 0")
        self.pool(asset).add(amount, cost, r.time_ms)

    def withdrawal(self, r: Record) -> None:
        if r.txid and r.sent_asset:
            self.withdrawn_txids.add((r.sent_asset, r.txid))
        self.fee_only(r)

    def fee_only(self, r: Record) -> None:
        if not r.fee_asset or not r.fee_amount:
            return
        fee_value = self.value(r.fee_asset, r.fee_amount, r.time_ms)
        self.pay_fee_in_kind(r, fee_value)
        self.expense(r, r.fee_asset, r.fee_amount, fee_value)


def compute(
    records: Iterable[Record],
    *,
    method: Method,
    report: str,
    prices: PriceSource,
    fees_in_basis: bool = True,
) -> Result:
    """Realized gains of ``records`` (any order; processed oldest first)."""
    calc = Calculator(method, report, prices, fees_in_basis)
    for r in sorted(records, key=sort_key):
        if r.kind is Kind.TRADE:
            calc.trade(r)
        elif r.kind is Kind.DEPOSIT:
            calc.deposit(r)
        elif r.kind is Kind.WITHDRAWAL:
            calc.withdrawal(r)
        else:
            calc.fee_only(r)
    return calc.result
