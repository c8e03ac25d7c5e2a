"""Parsing Binance request parameters into typed values, with Binance's exact error codes.

Every parser raises :class:`keyplane.exchange.errors.InvalidParameter` (or ``InvalidSymbol``)
before any domain call, so a malformed request changes nothing. Amounts become ``Decimal``, never
``float``; scientific notation (python-binance sends ``str(1e-05)``) is accepted when ``Decimal``
reads it exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container
from decimal import Decimal, InvalidOperation

from keyplane.exchange.errors import InvalidParameter, InvalidSymbol
from keyplane.keys.payload import Params

DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
DECIMAL_RE = re.compile(DECIMAL_PATTERN)
SCIENTIFIC_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?[eE][-+]?[0-9]{1,2}$")
INT_PATTERN = r"^[0-9]{1,20}$"
INT_RE = re.compile(INT_PATTERN)
MAX_INT = 2**63 - 1  # the database's BIGINT
SYMBOL_PATTERN = r"^[A-Z0-9-_.]{1,20}$"
SYMBOL_RE = re.compile(SYMBOL_PATTERN)
SYMBOLS_PATTERN = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'


def required(params: Params, name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter.missing(name)
    return value


def optional(params: Params, name: str) -> str | None:
    """A parameter sent empty counts as not sent, as Binance treats ``param=``."""
    value = params.get(name)
    return value if value else None


def decimal(params: Params, name: str) -> Decimal | None:
    raw = optional(params, name)
    if raw is None:
        return None
    if DECIMAL_RE.fullmatch(raw) or SCIENTIFIC_RE.fullmatch(raw):
        try:
            return Decimal(raw)
        except InvalidOperation:
            pass
    raise InvalidParameter.illegal_chars(name, DECIMAL_PATTERN)


def integer(params: Params, name: str) -> int | None:
    raw = optional(params, name)
    if raw is None:
        return None
    if not INT_RE.fullmatch(raw):
        raise InvalidParameter.illegal_chars(name, INT_PATTERN)
    value = int(raw)
    if value > MAX_INT:
        raise InvalidParameter(f"Parameter '{name}' overflowed.", -1108)
    return value


def boolean(params: Params, name: str, default: bool = False) -> bool:
    raw = optional(params, name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidParameter.invalid(name)
    return raw.lower() == "true"


def symbol(params: Params, name: str = "symbol") -> str:
    return _symbol_text(required(params, name), name)


def optional_symbol(params: Params) -> str | None:
    raw = optional(params, "symbol")
    return None if raw is None else _symbol_text(raw, "symbol")


def _symbol_text(raw: str, name: str) -> str:
    if not SYMBOL_RE.fullmatch(raw):
        raise InvalidParameter.illegal_chars(name, SYMBOL_PATTERN)
    return raw


def symbols(params: Params) -> list[str] | None:
    """``symbol=X`` or ``symbols=["X","Y"]`` (JSON, as ccxt and python-binance send it); None for neither."""
    one, many = optional(params, "symbol"), optional(params, "symbols")
    if one is not None and many is not None:
        raise InvalidParameter("Combination of optional parameters invalid.", -1128)
    if one is not None:
        return [_symbol_text(one, "symbol")]
    if many is None:
        return None
    try:
        parsed = json.loads(many)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or not all(isinstance(s, str) and SYMBOL_RE.fullmatch(s) for s in parsed):
        raise InvalidParameter.illegal_chars("symbols", SYMBOLS_PATTERN)
    if not parsed:
        raise InvalidParameter.missing("symbols")
    return list(dict.fromkeys(parsed))


def known(symbol_names: list[str], markets: Container[str]) -> list[str]:
    """Refuse the whole request with -1121 if any symbol is not listed."""
    for name in symbol_names:
        if name not in markets:
            raise InvalidSymbol()
    return symbol_names


def one_of(params: Params, name: str, allowed: tuple[str, ...], msg: str, code: int) -> str | None:
    raw = optional(params, name)
    if raw is not None and raw not in allowed:
        raise InvalidParameter(msg, code)
    return raw


def not_sent(params: Params, *names: str) -> None:
    """Parameters of order kinds the engine does not support: -1106, as Binance for a stray field."""
    for name in names:
        if optional(params, name) is not None:
            raise InvalidParameter.not_required(name)
