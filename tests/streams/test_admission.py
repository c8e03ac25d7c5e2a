"""The WebSocket admission's counts: attempts per IP per 5-minute window, refused ones included,
and connections held open per IP."""

from __future__ import annotations

from keyplane.streams.admission import WINDOW_S, Admission


def test_attempts_are_counted_per_ip_and_window_refusals_included() -> None:
    now = [1000.0]
    admission = Admission(attempts_per_window=3, open_at_once=10, clock=lambda: now[0])
    assert [admission.admit("1.2.3.4") for _ in range(3)] == [None, None, None]
    assert "attempts" in (admission.admit("1.2.3.4") or "")
    assert admission.admit("5.6.7.8") is None  # another IP has its own count
    now[0] += WINDOW_S - 1
    for _ in range(3):
        admission.release("1.2.3.4")
    assert admission.admit("1.2.3.4") is not None  # the window has not ended: refusals counted too
    now[0] += 1
    assert admission.admit("1.2.3.4") is None  # a new window


def test_open_connections_are_bounded_until_released() -> None:
    admission = Admission(attempts_per_window=100, open_at_once=2)
    assert admission.admit("::1") is None and admission.admit("::1") is None
    assert "open" in (admission.admit("::1") or "")
    assert admission.open_count("::1") == 2
    admission.release("::1")
    assert admission.admit("::1") is None
    admission.release("::1")
    admission.release("::1")
    assert admission.open_count("::1") == 0
