"""The layering of docs/architecture.md, checked over the source so it cannot rot: domain
packages never import an audience package or the request, audiences never import each
other, and modules and views stay small enough to read on one screen."""

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
DOMAIN = {"access", "billing", "documents", "mail", "portal_settings", "self_service"}
AUDIENCE = {"api", "customer", "merchant", "sandbox"}
# Flask names a domain module may use: the app (config, templates), never the request.
DOMAIN_FLASK_NAMES = {"Flask", "current_app", "has_app_context", "render_template"}
# The plumbing that wires the audiences together: the factory, the app-wide error pages and
# the login loader that asks each audience for its signed-in user.
WIRING = {"portal", "portal.web", "portal.extensions"}
MAX_MODULE_LINES = 300
MAX_VIEW_LINES = 25


def module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in ``tree``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found += [(base, alias.name, node.lineno) for alias in node.names]
    return found


def layer(module: str) -> str | None:
    """The package of the layering a module belongs to: 'domain', 'audience' or None."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "portal":
        return None
    if parts[1] in DOMAIN:
        return "domain"
    if parts[1] in AUDIENCE:
        return "audience"
    return None


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """What ``source`` (the text of ``module``) imports that the layering forbids."""
    found = []
    mine = layer(module)
    for target, name, line in imports(ast.parse(source), module, is_package):
        full = f"{target}.{name}" if name else target
        where = f"{module}:{line} imports {full}"
        if mine == "domain":
            if layer(full) == "audience" or layer(target) == "audience":
                found.append(f"{where} (domain code never imports an audience package)")
            if target == "flask" and name not in DOMAIN_FLASK_NAMES:
                found.append(f"{where} (domain code never reads the request)")
            if target.startswith(("flask_login", "flask_wtf", "flask_htmx")):
                found.append(f"{where} (domain code knows nothing of pages or sessions)")
        if mine == "audience":
            own = module.split(".")[1]
            other = target.split(".")[1] if target.startswith("portal.") else None
            if other is None and target == "portal" and name in AUDIENCE:
                other = name
            if other in AUDIENCE and other != own:
                found.append(f"{where} (audiences talk to each other only through the domain)")
        plumbing = mine is None and module not in WIRING
        if plumbing and (layer(full) == "audience" or layer(target) == "audience"):
            found.append(f"{where} (plumbing never depends on an audience)")
    return found


def sources():
    for path in sorted(PORTAL.rglob("*.py")):
        yield path, module_name(path), path.read_text()


def test_every_module_keeps_the_layering():
    found = []
    for path, module, source in sources():
        found += violations(module, source, is_package=path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("portal.billing.invoices", "from flask import request\n"),
        ("portal.billing.invoices", "from flask import g, current_app\n"),
        ("portal.mail.outbox", "import flask_login\n"),
        ("portal.access.signin", "from portal.customer.session import signed_in\n"),
        ("portal.access.signin", "from portal.api import envelope\n"),
        ("portal.billing.changes", "from ..api.envelope import error\n"),
        ("portal.merchant.forms", "from portal.customer.forms import SignInForm\n"),
        ("portal.api.invoices", "from portal import customer\n"),
        ("portal.digits", "from portal.merchant.session import company\n"),
    ],
)
def test_the_check_catches_a_forbidden_import(module, source):
    assert violations(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("portal.billing.invoices", "from flask import current_app\nfrom portal.db import db\n"),
        ("portal.mail.receipts", "from portal.billing import invoices\n"),
        ("portal.customer.home", "from portal.billing import credit\nfrom . import overview\n"),
        ("portal", "from portal.api import bp\n"),
    ],
)
def test_the_check_allows_what_the_layering_allows(module, source):
    assert violations(module, source) == []


def test_every_package_says_what_it_owns():
    for init in sorted(PORTAL.rglob("__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring, f"{init.relative_to(PORTAL.parent)} has no docstring"


def is_view(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef):
        return False
    decorators = [ast.unparse(d) for d in node.decorator_list]
    return any(".route(" in d or "api_route(" in d or d.startswith("bp.") for d in decorators)


def test_modules_and_views_fit_on_a_screen():
    too_long = []
    for _path, module, source in sources():
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{module}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if is_view(node) and node.end_lineno - node.lineno + 1 > MAX_VIEW_LINES:
                too_long.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1}")
    assert too_long == []
