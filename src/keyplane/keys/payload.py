"""The signed payload of a Binance-style request, taken from the raw bytes the client sent.

Payload = raw query string + raw body with the ``signature`` pair removed, never re-serialised.
python-binance signs the unencoded ``k=v&...`` string and then form-encodes the body, so a second,
percent-decoded candidate is tried. Either way the parameters parsed from what was signed must be
exactly the parameters the server will act on, so one signature never covers two parameter sets
(for example bytes moved between query and body).

Parameters are read exactly as ``urllib.parse.parse_qsl(text, keep_blank_values=True)`` reads
them (what a proxy, a WAF or an audit tool sees), or refused: a part without ``=`` (which no
client sends and ``parse_qsl`` reads as a blank value) is -1100, a name sent twice -1101.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, unquote_plus

from keyplane.keys.errors import BadParameter

Params = dict[str, str]


@dataclass(slots=True)
class ParsedRequest:
    params: Params
    signature: str | None
    payloads: tuple[bytes, ...]


@dataclass(slots=True)
class SignedRequest:
    """What the pipeline needs from an HTTP request, with no HTTP types.

    The HTTP layer parses every request once (public routes need the parameters too) and hands
    the result over; ``from_raw`` does both steps for callers holding raw bytes.
    """

    method: str
    parsed: ParsedRequest
    api_key: str | None
    client_ip: str
    # The route's path: a signature is bound to the method and path it was first seen on.
    path: str = ""

    @classmethod
    def from_raw(
        cls,
        method: str,
        raw_query: bytes,
        raw_body: bytes,
        api_key: str | None,
        client_ip: str,
        path: str = "",
    ) -> SignedRequest:
        return cls(method, parse_request(raw_query, raw_body), api_key, client_ip, path)


DUPLICATE = "Duplicate values for a parameter detected."


def _strip_signature(raw: str) -> tuple[str, str | None]:
    """Remove the ``signature=`` pair; return the rest verbatim and the raw signature value."""
    begin = raw.find("signature=")
    if begin == -1:
        return raw, None
    if (begin and raw[begin - 1] != "&") or raw.find("signature=", begin + 10) != -1:
        return _strip_signature_slowly(raw)
    end = raw.find("&", begin)
    end = len(raw) if end == -1 else end
    rest = raw[: begin - 1] + raw[end:] if begin > 0 else raw[end + 1 :]
    return rest, raw[begin + 10 : end]


def _strip_signature_slowly(raw: str) -> tuple[str, str | None]:
    """The same, when ``signature=`` also appears inside another parameter or twice."""
    found: tuple[int, int] | None = None
    start = raw.find("signature=")
    while start != -1:
        if start == 0 or raw[start - 1] == "&":
            if found is not None:
                raise BadParameter(-1101, DUPLICATE)
            end = raw.find("&", start)
            found = (start, len(raw) if end == -1 else end)
        start = raw.find("signature=", start + 10)
    if found is None:
        return raw, None
    begin, end = found
    rest = raw[: begin - 1] + raw[end:] if begin > 0 else raw[end + 1 :]
    return rest, raw[begin + 10 : end]


# Two "=" in one part. With as many "=" as parts and none like this, every part is exactly one k=v.
TWO_EQUALS = re.compile(r"=[^&=]*=")
NO_EQUALS = "Illegal characters found in a parameter: every parameter must be sent as name=value."


def parse_params(text: str) -> Params:
    """Read ``k=v&...`` exactly as ``parse_qsl(text, keep_blank_values=True)`` does, or refuse.

    This runs on every request, so the common case (no escapes, every part exactly one ``k=v``)
    is parsed by C-level calls only; anything else takes the careful path, never a third reading.
    """
    count = text.count("&") + 1
    if text.count("=") == count and "%" not in text and "+" not in text and TWO_EQUALS.search(text) is None:
        values = iter(text.replace("=", "&").split("&"))
        params = dict(zip(values, values))
        if len(params) != count:
            raise BadParameter(-1101, DUPLICATE)
        return params
    return _parse_params_carefully(text)


def _parse_params_carefully(text: str) -> Params:
    """``parse_qsl``'s reading: empty parts skipped, split at the first ``=``, ``+`` and ``%xx`` decoded."""
    params: Params = {}
    count = 0
    for part in text.split("&"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise BadParameter(-1100, NO_EQUALS)
        params[unquote_plus(name)] = unquote_plus(value)
        count += 1
    if len(params) != count:
        raise BadParameter(-1101, DUPLICATE)
    return params


def _add_params(rest: str, params: Params) -> None:
    """Add the parameters of ``rest`` (query or body) to ``params``; a name in both is a duplicate."""
    new = parse_params(rest)
    if params and not params.keys().isdisjoint(new):
        raise BadParameter(-1101, DUPLICATE)
    params.update(new)


def _literal_pairs(text: str) -> list[tuple[str, str]]:
    return sorted(
        (name, value) for name, _, value in (part.partition("=") for part in text.split("&") if part)
    )


def parse_request(raw_query: bytes, raw_body: bytes) -> ParsedRequest:
    """Parse parameters (query and form body merged) and the candidate signed payloads.

    Raises ``BadParameter`` for a duplicated parameter, as Binance does (-1101).
    """
    try:
        query, query_sig = _strip_signature(raw_query.decode("ascii"))
        body, body_sig = _strip_signature(raw_body.decode("ascii")) if raw_body else ("", None)
    except UnicodeDecodeError:
        raise BadParameter(-1100, "Illegal characters found in a parameter.") from None
    if query_sig is not None and body_sig is not None:
        raise BadParameter(-1101, DUPLICATE)
    params: Params = {}
    if query:
        _add_params(query, params)
    if body:
        _add_params(body, params)
    raw_signature = query_sig if query_sig is not None else body_sig
    if "signature" in params:  # spelt with an escape ("sig%6Eature"): a second signature to a proxy
        raise BadParameter(-1101, DUPLICATE)
    if raw_signature is None:
        return ParsedRequest(params, None, ())

    signature = unquote(raw_signature) if "%" in raw_signature else raw_signature
    raw_payload = query + body
    candidates = []
    # Candidate 1: exactly the bytes sent. When both query and body carry parameters, the joined
    # string must parse to the same parameters, or bytes could be moved across the boundary.
    if not (query and body) or sorted(parse_qsl(raw_payload, keep_blank_values=True)) == sorted(
        params.items()
    ):
        candidates.append(raw_payload.encode("ascii"))
    # Candidate 2: python-binance signs the unencoded string; parse it literally, without decoding.
    if "%" in raw_payload or "+" in raw_payload:
        decoded = "&".join(unquote_plus(part) for part in (query + "&" + body).split("&") if part)
        if _literal_pairs(decoded) == sorted(params.items()):
            candidates.append(decoded.encode("utf-8"))
    return ParsedRequest(params, signature, tuple(candidates))
