"""The German and Spanish catalogues against the sources: every message the customer pages,
e-mails and invoice PDF mark (babel's extractor, with babel.cfg) is translated in each, with
the same placeholders as its English; the compiled .mo files are the .po files compiled; and
each domain message the portal translates still exists in the domain's code."""

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.customer.domain_messages import MESSAGES
from portal.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "portal" / "translations"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def extracted() -> set:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(tuple(message) if isinstance(message, (list, tuple)) else message)
    return found


MSGIDS = extracted()


def catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_sources_mark_the_customer_facing_messages():
    assert len(MSGIDS) > 300
    assert "Billing information" in MSGIDS and "Thank you for your payment." in MSGIDS
    assert ("month", "%(num)d months") in MSGIDS


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang):
    messages = {
        (tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id): m
        for m in catalogue(lang)
        if m.id
    }
    missing = sorted(map(str, MSGIDS - set(messages)))
    assert not missing, f"{lang}: not in the catalogue: {missing}"
    for msgid in MSGIDS:
        message = messages[msgid]
        assert not message.fuzzy, (lang, msgid)
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        assert all(strings), f"{lang}: untranslated: {msgid!r}"
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        plural = msgid[1] if isinstance(msgid, tuple) else msgid
        for index, text in enumerate(strings):
            english = singular if isinstance(msgid, tuple) and index == 0 else plural
            assert placeholders(text) == placeholders(english), (lang, msgid, text)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_catalogue_holds_no_stale_messages(lang):
    ids = {tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id for m in catalogue(lang)}
    stale = sorted(map(str, ids - MSGIDS - {""}))
    assert not stale, f"{lang}: no longer in the sources (run pybabel update): {stale}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_up_to_date(lang):
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(lang))
    mo = (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert mo == compiled.getvalue(), "run: .venv/bin/pybabel compile -d portal/translations"


def test_each_translated_domain_message_still_exists_in_the_code():
    """portal/customer/domain_messages.py lists them only for the catalogues: one that the
    domain no longer says would be translated for nothing."""
    strings = set()
    for path in (ROOT / "portal").rglob("*.py"):
        if path.name == "domain_messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    gone = [message for message in MESSAGES if message not in strings]
    assert not gone, gone
