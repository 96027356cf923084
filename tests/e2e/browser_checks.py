"""Checks every browser journey applies to the pages it visits.

- ``watch(page)``: collects Content-Security-Policy violations (Chromium reports them on the
  console; our CSP allows no inline script, so an init script could not listen for them in
  the page) and uncaught page errors, for ``assert_clean()`` at the end of a journey.
- ``assert_accessible(page)``: axe-core finds no WCAG violations on the current page.
- ``assert_no_horizontal_scroll(page)``: the page fits a 360 px wide phone screen.
"""

from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 360, "height": 800}
_axe = Axe()


@dataclass
class PageProblems:
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(f"{message.location.get('url', '')}: {message.text}")

    def _on_page_error(self, error) -> None:
        self.errors.append(str(error))

    def assert_clean(self) -> None:
        assert not self.csp, "CSP violations:\n" + "\n".join(self.csp)
        assert not self.errors, "Page errors:\n" + "\n".join(self.errors)


def watch(page) -> PageProblems:
    """Start recording CSP violations and page errors for every page ``page`` loads."""
    problems = PageProblems()
    page.on("console", problems._on_console)
    page.on("pageerror", problems._on_page_error)
    return problems


def assert_accessible(page) -> None:
    results = _axe.run(page)
    assert results.violations_count == 0, f"axe on {page.url}:\n{results.generate_report()}"


def assert_no_horizontal_scroll(page, viewport=PHONE) -> None:
    """Narrow the viewport, check nothing overflows sideways, then restore the old size."""
    previous = page.viewport_size
    page.set_viewport_size(viewport)
    try:
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{page.url} scrolls sideways at {viewport['width']} px"
    finally:
        if previous:
            page.set_viewport_size(previous)
