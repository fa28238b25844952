"""Plotly figures built on the server and rendered by the plotly.js the app serves itself (no CDN).

Each function returns a figure as a JSON-ready dict; the page's script hands it to Plotly.newPlot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from bot.roleplay.schemas import CriterionAverage

_FONT = '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
BRAND = "#a31f24"
MUTED = "#8c8c8c"


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "font": {"family": _FONT, "size": 12},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 80},
        "height": 340,
        "template": "none",
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        **extra,
    }


def to_dict(figure: go.Figure) -> dict[str, Any]:
    """Plain JSON types (numpy arrays and dates serialised the way plotly.js expects)."""
    data: dict[str, Any] = json.loads(figure.to_json())
    return data


def training_criteria(criteria: Sequence[CriterionAverage]) -> dict[str, Any]:
    """Team average per criterion as a percentage of its maximum, worst first, with the pass rate."""
    rows = sorted(criteria, key=lambda c: c.average / c.max if c.max else 0)
    names = [f"{c.name}<br>{c.name_en}" for c in rows]
    figure = go.Figure(
        [
            go.Bar(
                name="平均得分率 Average %",
                x=names,
                y=[round(100 * c.average / c.max, 1) if c.max else 0 for c in rows],
                marker_color=BRAND,
            ),
            go.Bar(
                name="通过率 Pass rate %", x=names, y=[round(100 * c.pass_rate, 1) for c in rows], marker_color=MUTED
            ),
        ],
        layout=_layout(
            "各项平均分（低→高） Average per criterion (worst first)",
            barmode="group",
            yaxis={"range": [0, 100], "ticksuffix": "%"},
            legend={"orientation": "h", "y": -0.35},
        ),
    )
    return to_dict(figure)


def counts_bar(title: str, counts: dict[str, int], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A simple bar chart of counts (leads by status, guard blocks by rule)."""
    keys = list(counts)
    figure = go.Figure(
        go.Bar(x=[(labels or {}).get(k, k) for k in keys], y=[counts[k] for k in keys], marker_color=BRAND),
        layout=_layout(title, yaxis={"rangemode": "tozero"}),
    )
    return to_dict(figure)


FUNNEL_STEPS = ("eligible", "dialed", "answered", "human", "engaged", "leads", "converted")
STEP_LABELS = {
    "eligible": "入选 Eligible",
    "dialed": "已拨 Dialed",
    "answered": "接通 Answered",
    "human": "本人 Human",
    "engaged": "有效沟通 Engaged",
    "leads": "线索 Leads",
    "converted": "转化 Converted",
}
PALETTE = ("#a31f24", "#1f5fa3", "#2e8b57", "#b26a00", "#6a3d9a", "#8c8c8c")


def campaign_funnel(arms: Sequence[Any]) -> dict[str, Any]:
    """The funnel per arm (control is never called: only its eligible and converted steps mean anything)."""
    traces = [
        go.Funnel(
            name=a.arm_label.text(),
            y=[STEP_LABELS[s] for s in FUNNEL_STEPS],
            x=[getattr(a.funnel, s) for s in FUNNEL_STEPS],
            textinfo="value+percent initial",
            marker={"color": PALETTE[i % len(PALETTE)]},
        )
        for i, a in enumerate(arms)
    ]
    return to_dict(go.Figure(traces, layout=_layout("各组漏斗 Funnel per arm", height=420, margin={"l": 120})))


def conversion_bars(title: str, rows: Sequence[Any], *, by_segment: bool) -> dict[str, Any]:
    """Conversion rate per arm, or per segment (by its label) with one bar per arm."""
    return rate_bars(title, [(r, r.conversion_rate, r.funnel.eligible) for r in rows], by_segment=by_segment)


def rate_bars(title: str, rows: Sequence[tuple[Any, float | None, int]], *, by_segment: bool) -> dict[str, Any]:
    """A rate per arm, or per segment with one bar per arm; rows are (arm row, rate, eligible clients)."""
    arms = list(dict.fromkeys(r.arm for r, _, _ in rows))
    traces = []
    for i, arm in enumerate(arms):
        mine = [(r, rate, n) for r, rate, n in rows if r.arm == arm]
        traces.append(
            go.Bar(
                name=mine[0][0].arm_label.text(),
                x=[
                    (r.segment_label.zh if r.segment_label else "—") if by_segment else r.arm_label.text()
                    for r, _, _ in mine
                ],
                y=[100 * (rate or 0) for _, rate, _ in mine],
                text=[f"{100 * rate:.1f}%" if rate is not None else "n/a" for _, rate, _ in mine],
                customdata=[n for _, _, n in mine],
                hovertemplate="%{y:.1f}% (n=%{customdata})<extra>%{fullData.name}</extra>",
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    layout = _layout(title, barmode="group", yaxis={"ticksuffix": "%", "rangemode": "tozero"})
    return to_dict(go.Figure(traces, layout=layout))


def uplift_chart(title: str, uplifts: Sequence[Any], *, labels: Sequence[str]) -> dict[str, Any]:
    """Uplift (percentage points) with its 95% interval as error bars; zero marked, so a bar crossing it reads
    "not shown to work" at a glance."""
    shown = [(label, u) for label, u in zip(labels, uplifts, strict=True) if u.uplift is not None]
    figure = go.Figure(
        go.Scatter(
            x=[label for label, _ in shown],
            y=[100 * u.uplift for _, u in shown],
            mode="markers",
            # Red only for a verdict (the interval excludes 0 and both sides have enough clients).
            marker={"size": 12, "color": [BRAND if u.verdict in ("up", "down") else MUTED for _, u in shown]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [100 * (u.ci_high - u.uplift) for _, u in shown],
                "arrayminus": [100 * (u.uplift - u.ci_low) for _, u in shown],
                "thickness": 2,
                "width": 8,
            },
            customdata=[
                [u.n_treatment, u.n_control, u.p_value if u.p_value is not None else float("nan"), u.verdict_label.zh]
                for _, u in shown
            ],
            hovertemplate="%{y:.2f} pp · n=%{customdata[0]}/%{customdata[1]} · p=%{customdata[2]:.3f}"
            " · %{customdata[3]}<extra></extra>",
            name="uplift",
        ),
        layout=_layout(
            title,
            yaxis={"ticksuffix": " pp", "zeroline": True, "zerolinecolor": "#333", "zerolinewidth": 1},
            showlegend=False,
        ),
    )
    return to_dict(figure)
