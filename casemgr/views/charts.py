"""Charts of a report drawn on the server as SVG geometry (the template `reports/_charts.html`
draws it): bars for a breakdown, lines for a trend. A figure that is not shown is drawn
as absent, with its label and the words "not shown"; a coded rate ("≤ 5%") as a bar or
point at its bound, drawn open. Every chart goes with its table."""
from __future__ import annotations

from dataclasses import dataclass, field

from casemgr.reads.reports import Report, percent_words
from casemgr.suppression import Figure

WIDTH = 640
LABEL_WIDTH = 200
BAR_HEIGHT = 22
BAR_GAP = 8
PLOT_HEIGHT = 240
MARGIN = 36


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    width: float  # 0 for a figure not shown
    words: str
    state: str  # "shown", "coded" or "hidden"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    words: str
    open: bool  # a coded rate: drawn at its bound, open


@dataclass
class Line:
    label: str
    segments: list[list[Point]] = field(default_factory=list)  # broken where a figure is not shown
    hidden: int = 0


@dataclass(frozen=True)
class Tick:
    at: float
    words: str


@dataclass
class Chart:
    kind: str  # "bars" or "lines"
    title: str
    description: str
    width: int = WIDTH
    height: int = 0
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)


def _value(figure: Figure, counting: bool) -> float | None:
    """The drawn value: a share (0 to 1) of a rate, the students of a count; None when
    the figure is not shown or about nobody."""
    if figure.suppressed:
        return None
    if counting:
        return float(figure.n)
    if figure.coded:
        return figure.bound / 100
    return figure.k / figure.n if figure.n else None


def bars(report: Report, title: str) -> Chart:
    counting = report.measure.meets is None
    groups = [*report.groups, report.total] if report.total else list(report.groups)
    values = [_value(g.figure, counting) for g in groups]
    top = max([v for v in values if v is not None] or [1]) if counting else 1.0
    top = top or 1.0
    plot = WIDTH - LABEL_WIDTH - 70
    chart = Chart("bars", title, "", height=len(groups) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP)
    for index, (group, value) in enumerate(zip(groups, values, strict=True)):
        state = "hidden" if group.figure.suppressed else "coded" if group.figure.coded else "shown"
        words = "not shown" if state == "hidden" else (str(group.figure.n) if counting else percent_words(group.figure))
        chart.bars.append(Bar(group.label, BAR_GAP + index * (BAR_HEIGHT + BAR_GAP),
                              0 if value is None else round(plot * value / top, 1), words, state))
    hidden = sum(1 for b in chart.bars if b.state == "hidden")
    chart.description = (f"Bar chart: {len(groups)} groups; " + "; ".join(f"{b.label}: {b.words}" for b in chart.bars)
                         + (f". {hidden} figure{'s' if hidden != 1 else ''} not shown." if hidden else "."))
    return chart


def lines(report: Report, title: str) -> Chart:
    counting = report.measure.meets is None
    values = [[_value(f, counting) for f in figures] for _, figures in report.series]
    known = [v for row in values for v in row if v is not None]
    if counting:
        low, high = 0.0, max(known or [1.0]) * 1.1 or 1.0
    else:  # from the nearest 5% below the lowest to the nearest 5% above the highest
        low = max(0.0, (int(min(known or [0]) * 20) - 1) / 20)
        high = min(1.0, (int(max(known or [1]) * 20) + 1) / 20)
        high = high if high > low else low + 0.05
    step = (WIDTH - LABEL_WIDTH) / max(len(report.periods) - 1, 1)
    chart = Chart("lines", title, "", height=PLOT_HEIGHT + 2 * MARGIN)

    def y_of(value: float) -> float:
        return round(MARGIN + PLOT_HEIGHT * (1 - (value - low) / (high - low)), 1)

    chart.x_ticks = [Tick(round(MARGIN + i * step, 1), period) for i, period in enumerate(report.periods)]
    for i in range(5):
        value = low + (high - low) * i / 4
        chart.y_ticks.append(Tick(y_of(value), f"{value:.0f}" if counting else f"{100 * value:.0f}%"))
    for (label, figures), row in zip(report.series, values, strict=True):
        line, segment = Line(label), []
        for i, (figure, value) in enumerate(zip(figures, row, strict=True)):
            if value is None:
                line.hidden += figure.suppressed
                if segment:
                    line.segments.append(segment)
                segment = []
                continue
            words = str(figure.n) if counting else percent_words(figure)
            segment.append(Point(round(MARGIN + i * step, 1), y_of(value), words, bool(figure.coded)))
        if segment:
            line.segments.append(segment)
        chart.lines.append(line)
    said = []
    for line, (label, figures) in zip(chart.lines, report.series, strict=True):
        points = ", ".join(f"{period} {'not shown' if f.suppressed else (str(f.n) if counting else percent_words(f))}"
                           for period, f in zip(report.periods, figures, strict=True))
        said.append(f"{label}: {points}")
    chart.description = "Line chart over time. " + "; ".join(said) + "."
    return chart
