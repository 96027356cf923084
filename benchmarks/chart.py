"""A latency-versus-concurrency line chart as a self-contained SVG (no plotting library)."""

import math
from html import escape

WIDTH, HEIGHT = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 40, 60
COLORS = ("#4338ca", "#0f766e", "#b45309", "#be123c")


def _axis(value: float) -> tuple[float, float]:
    """(top, step): at most six round steps covering ``value``."""
    step = 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 6:
            break
    return max(math.ceil(value / step), 1) * step, step


def latency_svg(series: dict[str, list[tuple[int, float]]], title: str) -> str:
    """``series``: name → [(concurrency, latency ms)], plotted on an even x spacing."""
    levels = sorted({c for points in series.values() for c, _ in points})
    top, step = _axis(max((ms for points in series.values() for _, ms in points), default=1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(level: int) -> float:
        index = levels.index(level)
        return LEFT + (plot_w * index / max(len(levels) - 1, 1))

    def y(ms: float) -> float:
        return TOP + plot_h - plot_h * ms / top

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in range(round(top / step) + 1):
        value = tick * step
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#e5e7eb"/><text x="{LEFT - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:g}</text>'
        )
    for level in levels:
        out.append(
            f'<text x="{x(level):.1f}" y="{TOP + plot_h + 20}" text-anchor="middle">{level}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
        "concurrent connections</text>"
        f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {TOP + plot_h / 2})">latency (ms)</text>'
    )
    bases = list(dict.fromkeys(name.rsplit(" ", 1)[0] for name in series))
    for index, (name, points) in enumerate(series.items()):
        # One colour per page; p99 dashed, p50 solid.
        color = COLORS[bases.index(name.rsplit(" ", 1)[0]) % len(COLORS)]
        dash = ' stroke-dasharray="6 4"' if "p99" in name else ""
        path = " ".join(f"{x(c):.1f},{y(ms):.1f}" for c, ms in sorted(points))
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
        )
        for c, ms in points:
            out.append(f'<circle cx="{x(c):.1f}" cy="{y(ms):.1f}" r="3" fill="{color}"/>')
        legend_y = TOP + 10 + index * 20
        out.append(
            f'<line x1="{WIDTH - RIGHT + 15}" x2="{WIDTH - RIGHT + 40}" y1="{legend_y}" '
            f'y2="{legend_y}" stroke="{color}" stroke-width="2"{dash}/>'
            f'<text x="{WIDTH - RIGHT + 46}" y="{legend_y + 4}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
