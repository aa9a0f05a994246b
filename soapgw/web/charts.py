"""Energy and power of a transaction over time, drawn as SVG by our own code (no JS, no CDN).

Every piece of text that goes into the SVG is escaped; numbers are formatted by us.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
# Samples from these locations do not describe what the station delivers.
_OTHER_LOCATIONS = {"EV", "Body", "Cable"}
MAX_POINTS = 1000  # per series; more points than pixels only slow the browser down


@dataclass
class Series:
    name: str
    unit: str
    css_class: str
    color: str
    points: list[tuple[datetime, float]] = field(default_factory=list)


@dataclass
class Sample:
    """The columns of a meter value row the chart needs."""

    value_timestamp: datetime
    value: str
    measurand: str | None
    phase: str | None
    unit: str | None
    location: str | None
    format: str | None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _scaled(value: float, unit: str | None, base: str) -> float:
    """kWh from Wh (or kWh), kW from W (or kW)."""
    unit = (unit or base).strip()
    return value if unit.lower().startswith("k") else value / 1000


def _totals(samples: list[Sample], measurand: str, base_unit: str) -> list[tuple[datetime, float]]:
    """One value per timestamp: the phase-less sample when there is one, else the phases' sum."""
    whole: dict[datetime, float] = {}
    phases: dict[datetime, float] = defaultdict(float)
    for sample in samples:
        if (sample.measurand or ENERGY) != measurand or sample.format == "SignedData" \
                or sample.location in _OTHER_LOCATIONS:
            continue
        value = _number(sample.value)
        if value is None:
            continue
        value = _scaled(value, sample.unit, base_unit)
        if sample.phase:
            phases[sample.value_timestamp] += value
        else:
            whole[sample.value_timestamp] = value
    merged = {**phases, **whole}
    return sorted(merged.items())


def transaction_series(samples: list[Sample], start: datetime, meter_start: int,
                       stop: datetime | None, meter_stop: int | None) -> tuple[Series, Series]:
    """Energy delivered since the start (kWh) and power (kW)."""
    registers = _totals(samples, ENERGY, "Wh")
    if stop is not None and meter_stop is not None:
        registers.append((stop, meter_stop / 1000))
    base = meter_start / 1000
    if any(value < base for _, value in registers):
        # A meter whose register disagrees with meterStart: count from its first reading.
        base = registers[0][1]
    else:
        registers.insert(0, (start, base))
    energy = Series("Energy delivered", "kWh", "energy", "#1f6feb",
                    sorted((t, round(v - base, 6)) for t, v in registers))
    power = Series("Power", "kW", "power", "#c2410c", _totals(samples, POWER, "W"))
    return energy, power


# --- drawing ---------------------------------------------------------------------------------
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 34, 44
_TIME_STEPS = [timedelta(seconds=s) for s in (
    1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800)]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _axis_max(values: list[float]) -> tuple[float, float]:
    """(top of the axis, tick step), starting at zero."""
    top = max([0.0, *values])
    if top <= 0:
        return 1.0, 0.2
    step = _nice_step(top)
    return step * math.ceil(top / step - 1e-9), step


def _fmt(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _thin(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    if len(points) <= MAX_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_POINTS)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def svg_chart(energy: Series, power: Series, title: str) -> Markup:
    """An SVG document fragment: time on x, energy on the left axis, power on the right."""
    everything = energy.points + power.points
    if not everything:
        return Markup("")
    t0 = min(t for t, _ in everything)
    t1 = max(t for t, _ in everything)
    span = max((t1 - t0).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    e_max, e_step = _axis_max([v for _, v in energy.points])
    p_max, p_step = _axis_max([v for _, v in power.points])

    def x(t: datetime) -> float:
        return LEFT + (t - t0).total_seconds() / span * plot_w

    def y(value: float, top: float) -> float:
        return TOP + plot_h - max(value, 0) / top * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
           'font-family="sans-serif" font-size="11">',
           f'<title id="chart-title">{escape(title)}</title>',
           f'<desc id="chart-desc">{escape(energy.name)} in {escape(energy.unit)} '
           f'({len(energy.points)} points) and {escape(power.name)} in {escape(power.unit)} '
           f'({len(power.points)} points) from {t0:%Y-%m-%d %H:%M:%S} to '
           f'{t1:%Y-%m-%d %H:%M:%S} UTC</desc>',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
           'stroke="#c8ccd2"/>']
    # Horizontal grid and the two value axes.
    for i in range(round(e_max / e_step) + 1):
        value = i * e_step
        py = y(value, e_max)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py:.1f}" y2="{py:.1f}" '
                   'stroke="#eceef1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" '
                   f'fill="{energy.color}">{_fmt(value)}</text>')
    for i in range(round(p_max / p_step) + 1):
        value = i * p_step
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{y(value, p_max) + 4:.1f}" '
                   f'fill="{power.color}">{_fmt(value)}</text>')
    # Time axis.
    step = next((s for s in _TIME_STEPS if span / s.total_seconds() <= 8), _TIME_STEPS[-1])
    seconds = step.total_seconds()
    first = datetime.fromtimestamp(math.ceil(t0.timestamp() / seconds) * seconds, t0.tzinfo)
    label = "%m-%d %H:%M" if span > 86400 else ("%H:%M:%S" if seconds < 60 else "%H:%M")
    ticks = []
    tick = first
    while tick <= t1:
        ticks.append(tick)
        tick += step
    if not ticks:  # a span shorter than one step: label both ends
        ticks, label = [t0, t1] if t1 > t0 else [t0], "%H:%M:%S"
    for tick in ticks:
        px = x(tick)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                   'stroke="#f2f3f5"/>')
        out.append(f'<text x="{px:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                   f'fill="#555">{tick.strftime(label)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle" '
               'fill="#555">time (UTC)</text>')
    out.append(f'<text x="14" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 14 {TOP + plot_h / 2:.0f})" fill="{energy.color}">'
               f'{escape(energy.name)} ({escape(energy.unit)})</text>')
    rx = WIDTH - 12
    out.append(f'<text x="{rx}" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(90 {rx} {TOP + plot_h / 2:.0f})" fill="{power.color}">'
               f'{escape(power.name)} ({escape(power.unit)})</text>')
    # The lines, and a dot per point when there are few.
    for series, top in ((energy, e_max), (power, p_max)):
        points = _thin(series.points)
        if not points:
            continue
        coords = " ".join(f"{x(t):.1f},{y(v, top):.1f}" for t, v in points)
        out.append(f'<polyline class="{series.css_class}" fill="none" stroke="{series.color}" '
                   f'stroke-width="2" points="{coords}"/>')
        if len(points) <= 60:
            out.extend(f'<circle cx="{x(t):.1f}" cy="{y(v, top):.1f}" r="2.5" '
                       f'fill="{series.color}"><title>{t:%H:%M:%S} {_fmt(v)} '
                       f'{escape(series.unit)}</title></circle>' for t, v in points)
    # Legend.
    for i, series in enumerate((energy, power)):
        lx = LEFT + i * 200
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="16" y2="16" stroke="{series.color}" '
                   'stroke-width="3"/>')
        out.append(f'<text x="{lx + 24}" y="20" fill="#222">{escape(series.name)} '
                   f'({escape(series.unit)})</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
