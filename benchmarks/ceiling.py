"""The ceiling: a bare Flask app rendering a Jinja page as big as the portal home.

Served with the same gunicorn settings as the portal, it shows what Flask, Jinja and gunicorn
cost on this machine with no database, sessions, CSRF, headers or compression; the portal's
throughput is reported as a share of it. ``CEILING_BYTES`` sets the page size.

    CEILING_BYTES=9000 gunicorn -w 4 -b 127.0.0.1:8001 benchmarks.ceiling:app
"""

import os

from flask import Flask, render_template
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
<table>{% for row in rows %}<tr><td>{{ row.number }}</td><td>{{ row.date }}</td>
<td class="num">{{ row.amount }}</td><td>{{ row.status }}</td></tr>{% endfor %}</table>
<!-- {{ padding }} --></main></body></html>
"""


def _rows(count: int) -> list[dict]:
    return [
        {"number": f"INV-{i:05d}", "date": "Mar 3, 2026", "amount": "$49.00", "status": "Paid"}
        for i in range(count)
    ]


def create_app(size: int) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"page.html": PAGE})
    context = {"title": "Overview", "rows": _rows(0), "padding": ""}
    with app.app_context():
        # Enough rows to come close, then padding to land on the exact byte count.
        while len(render_template("page.html", **context).encode()) < size - 120:
            context["rows"] = _rows(len(context["rows"]) + 1)
        short = size - len(render_template("page.html", **context).encode())
        context["padding"] = "x" * max(short, 0)

    @app.route("/")
    def page():
        return render_template("page.html", **context)

    return app


app = create_app(int(os.environ.get("CEILING_BYTES", "8000")))
