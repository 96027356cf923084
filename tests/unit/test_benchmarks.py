"""CI's short load test: a few seconds of simulated customers against gunicorn, with
`run-billing --loop` and `deliver-mail --loop` beside them, must leave every invariant intact
(no 5xx, invoice totals, one change per confirm, each e-mail sent once, database integrity).
The full run is `scripts/loadtest`; this keeps its checks from rotting."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a tool folder, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks.customer import form_for, forms  # noqa: E402


def _database_url(tmp_path: Path) -> str:
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    return url if url.startswith("postgres") else f"sqlite:///{tmp_path / 'load.db'}"


def test_short_load_test_keeps_every_invariant(app, tmp_path):
    # `app` empties the shared PostgreSQL scratch database before and after the run.
    out = tmp_path / "result.json"
    args = ["--seconds", "5", "--customers", "6", "--dataset-customers", "60"]
    args += ["--heavy-invoices", "60", "--workers", "2", "--due-soon", "0.2", "--no-write"]
    args += ["--database-url", _database_url(tmp_path), "--workdir", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadtest", *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    failed = [row for row in result["checks"] if not row["ok"]]
    assert not failed, failed
    assert done.returncode == 0, done.stderr[-3000:]
    # The customers really did something: pages, card changes, plan changes, sign-in mail.
    kinds = {key.rsplit(" ", 1)[0] for key in result["by_kind"]}
    assert {"handoff", "page", "add card", "change plan"} <= kinds
    assert result["statuses"].get("200", 0) > 20
    assert result["activity"]["events"].get("subscription.changed", 0) > 0
    names = {row["name"] for row in result["checks"]}
    assert "every queued email sent exactly once" in names


METHODS = "/portal/payment-methods"
PAGE = """
<form method="post" action="/portal/payment-methods/m1/remove" class="inline">
  <input type="hidden" name="csrf_token" value="tok&amp;1"><input type="hidden" name="form_nonce" value="n1">
</form>
<form method="post" action="/portal/payment-methods/card" novalidate>
  <input id="card-csrf_token" name="card-csrf_token" type="hidden" value="tok2">
  <input type="hidden" name="card-form_nonce" value="n2"><input type="text" name="card-number" value="">
</form>
"""  # noqa: E501


@pytest.mark.parametrize(
    ("pattern", "action", "fields"),
    [
        (r"/remove$", f"{METHODS}/m1/remove", {"csrf_token": "tok&1", "form_nonce": "n1"}),
        (r"/card$", f"{METHODS}/card", {"card-csrf_token": "tok2", "card-form_nonce": "n2"}),
        (r"/keep$", None, None),
    ],
)
def test_forms_are_scraped_with_their_hidden_tokens(pattern, action, fields):
    """The load test submits what a browser would: every hidden field, unescaped."""
    assert len(forms(PAGE)) == 2
    found = form_for(PAGE, pattern)
    assert (found is None) if action is None else found == (action, fields)
