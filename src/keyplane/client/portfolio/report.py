"""The one-page HTML report: allocation and value-over-time charts drawn here as inline SVG.

No script and no CDN: the file opens offline and shows the same thing in ten years. Every piece
of text from an exchange or the vault is escaped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from keyplane.client.portfolio.model import Portfolio
from keyplane.client.portfolio.render import money, plain

COLOURS = ["#2f6fdf", "#e0803a", "#3aa76d", "#c94c4c", "#8a5cc7", "#c7a23a", "#3ab0c7", "#7a7a7a"]


def allocation_svg(portfolio: Portfolio, size: int = 240) -> str:
    """A donut: one arc per asset, largest first; assets past the seventh are grouped as 'other'."""
    rows = [(a, v) for a, _, v, _ in portfolio.allocation() if v > 0]
    if len(rows) > len(COLOURS):
        rows = rows[: len(COLOURS) - 1] + [
            ("other", sum((v for _, v in rows[len(COLOURS) - 1 :]), Decimal(0)))
        ]
    total = sum((v for _, v in rows), Decimal(0))
    centre, radius, inner = size / 2, size / 2 - 4, size / 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" aria-label="allocation">'
    ]
    if total == 0:
        parts.append(f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="#ddd"/>')
    angle = -math.pi / 2
    for index, (asset, value) in enumerate(rows):
        sweep = float(value / total) * 2 * math.pi
        colour = COLOURS[index % len(COLOURS)]
        if sweep >= 2 * math.pi - 1e-9:
            parts.append(
                f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="{colour}"><title>{escape(asset)}</title></circle>'
            )
        else:
            x1, y1 = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
            x2, y2 = centre + radius * math.cos(angle + sweep), centre + radius * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            parts.append(
                f'<path d="M{centre:.2f},{centre:.2f} L{x1:.2f},{y1:.2f} A{radius:.2f},{radius:.2f} 0 {large} 1 '
                f'{x2:.2f},{y2:.2f} Z" fill="{colour}"><title>{escape(asset)}</title></path>'
            )
        angle += sweep
    parts.append(f'<circle cx="{centre}" cy="{centre}" r="{inner}" fill="#fff"/>')
    parts.append("</svg>")
    return "".join(parts)


def history_svg(portfolio: Portfolio, width: int = 640, height: int = 240) -> str:
    """A line of the summed daily value; a single day is drawn as a dot."""
    points = portfolio.history()
    pad = 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="value over time">'
    ]
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fafafa" stroke="#ddd"/>')
    if not points:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#777">no daily candles yet</text></svg>'
        )
        return "".join(parts)
    values = [float(v) for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or max(high, 1.0)
    days = [d for d, _ in points]
    first, last = days[0], days[-1]

    def x(day: int) -> float:
        return pad + (width - 2 * pad) * ((day - first) / (last - first) if last > first else 0.5)

    def y(value: float) -> float:
        return height - pad - (height - 2 * pad) * ((value - low) / span if high > low else 0.5)

    coords = " ".join(f"{x(d):.1f},{y(float(v)):.1f}" for d, v in points)
    if len(points) > 1:
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#2f6fdf" stroke-width="2"/>')
    for day, value in points:
        parts.append(
            f'<circle cx="{x(day):.1f}" cy="{y(float(value)):.1f}" r="3" fill="#2f6fdf"><title>{_date(day)}: {money(value)}</title></circle>'
        )
    parts.append(f'<text x="{pad}" y="{height - 12}" fill="#555" font-size="12">{_date(first)}</text>')
    parts.append(
        f'<text x="{width - pad}" y="{height - 12}" fill="#555" font-size="12" text-anchor="end">{_date(last)}</text>'
    )
    parts.append(
        f'<text x="{pad}" y="20" fill="#555" font-size="12">{money(Decimal(str(high)))} max · {money(Decimal(str(low)))} min</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def html_report(portfolio: Portfolio) -> str:
    quote = escape(portfolio.quote)
    legend = "".join(
        f'<li><span class="sw" style="background:{COLOURS[i % len(COLOURS)]}"></span>{escape(asset)} {part}%</li>'
        for i, (asset, _, _, part) in enumerate(portfolio.allocation())
    )
    rows = []
    for account in portfolio.accounts:
        if not account.ok:
            label = "refused" if account.refused else "failed"
            rows.append(
                f'<tr class="bad"><td>{escape(account.name)}</td><td colspan="4">{label}: {escape(account.error or "")}</td></tr>'
            )
            continue
        for h in account.holdings:
            rows.append(
                f"<tr><td>{escape(account.name)}</td><td>{escape(h.asset)}</td><td class=n>{plain(h.amount)}</td>"
                f"<td class=n>{'no price' if h.price is None else plain(h.price)}</td><td class=n>{money(h.value)}</td></tr>"
            )
        rows.append(
            f'<tr class="sub"><td>{escape(account.name)}</td><td colspan="3">subtotal</td><td class=n>{money(account.total)}</td></tr>'
        )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in portfolio.warnings)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portfolio in {quote}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
td,th{{padding:.25em .8em;border-bottom:1px solid #eee}} .n{{text-align:right;font-variant-numeric:tabular-nums}}
.bad td{{color:#b00}} .sub td{{font-weight:bold}} .charts{{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}}
.sw{{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:middle}} ul{{list-style:none;padding:0}}
</style></head><body>
<h1>Portfolio: {money(portfolio.total)} {quote}</h1>
<p>Taken {_date(portfolio.taken_at, seconds=True)} UTC from each exchange's own tickers.</p>
<div class="charts"><section><h2>Allocation</h2>{allocation_svg(portfolio)}<ul>{legend}</ul></section>
<section><h2>Value over time</h2>{history_svg(portfolio)}<p>Today's holdings at each day's close.</p></section></div>
<h2>Holdings</h2><table><tr><th>account</th><th>asset</th><th>amount</th><th>price ({quote})</th><th>value ({quote})</th></tr>
{"".join(rows)}
<tr class="sub"><td>total</td><td colspan="3"></td><td class=n>{money(portfolio.total)}</td></tr></table>
<ul>{warnings}</ul>
</body></html>
"""


def _date(ms: int, seconds: bool = False) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d")
