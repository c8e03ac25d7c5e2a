"""The signed payload of a Binance-style request, taken from the raw bytes the client sent.

Payload = raw query string + raw body with the ``signature`` pair removed, never re-serialised.
python-binance signs the unencoded ``k=v&...`` string and then form-encodes the body, so a second,
percent-decoded candidate is tried. Either way the parameters parsed from what was signed must be
exactly the parameters the server will act on, so one signature never covers two parameter sets
(for example bytes moved between query and body).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, unquote_plus

from keyplane.keys.errors import BadParameter

Params = dict[str, str]


@dataclass(frozen=True)
class SignedRequest:
    """What the pipeline needs from an HTTP request, with no HTTP types."""

    method: str
    raw_query: bytes
    raw_body: bytes
    api_key: str | None
    client_ip: str


@dataclass(frozen=True)
class ParsedRequest:
    params: Params
    signature: str | None
    payloads: tuple[bytes, ...]


def _split(raw: str) -> tuple[list[str], str | None]:
    """Split on ``&``; return the non-signature parts and the raw signature value, if any."""
    parts: list[str] = []
    signature: str | None = None
    if not raw:
        return parts, None
    for part in raw.split("&"):
        if part.startswith("signature="):
            if signature is not None:
                raise BadParameter(-1101, "Duplicate values for a parameter detected.")
            signature = part[len("signature=") :]
        else:
            parts.append(part)
    return parts, signature


def _literal_pairs(parts: list[str], decode: bool) -> list[tuple[str, str]]:
    pairs = []
    for part in parts:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)) if decode else (name, value))
    return pairs


def parse_request(raw_query: bytes, raw_body: bytes) -> ParsedRequest:
    """Parse parameters (query and form body merged) and the candidate signed payloads.

    Raises ``BadParameter`` for a duplicated parameter, as Binance does (-1101).
    """
    try:
        query = raw_query.decode("ascii")
        body = raw_body.decode("ascii")
    except UnicodeDecodeError:
        raise BadParameter(-1100, "Illegal characters found in a parameter.") from None
    query_parts, query_sig = _split(query)
    body_parts, body_sig = _split(body)
    if query_sig is not None and body_sig is not None:
        raise BadParameter(-1101, "Duplicate values for a parameter detected.")
    raw_signature = query_sig if query_sig is not None else body_sig

    sent = _literal_pairs(query_parts, decode=True) + _literal_pairs(body_parts, decode=True)
    params: Params = {}
    for name, value in sent:
        if name in params:
            raise BadParameter(-1101, "Duplicate values for a parameter detected.")
        params[name] = value
    if raw_signature is None:
        return ParsedRequest(params, None, ())

    signature = unquote(raw_signature)
    raw_payload = ("&".join(query_parts) + "&".join(body_parts)).encode("ascii")
    candidates = []
    # Candidate 1: exactly the bytes sent. When both query and body carry parameters, the joined
    # string must parse to the same parameters, or bytes could be moved across the boundary.
    if not (query_parts and body_parts) or sorted(
        parse_qsl(raw_payload.decode("ascii"), keep_blank_values=True)
    ) == sorted(sent):
        candidates.append(raw_payload)
    # Candidate 2: python-binance signs the unencoded string; parse it literally, without decoding.
    if "%" in body or "+" in body or "%" in query or "+" in query:
        decoded = "&".join(unquote_plus(p) for p in (*query_parts, *body_parts))
        if sorted(_literal_pairs(decoded.split("&"), False)) == sorted(sent):
            candidates.append(decoded.encode("utf-8"))
    return ParsedRequest(params, signature, tuple(candidates))
