"""A class session in a real browser: one teacher tab, five student tabs drawing with the mouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

STUDENT_DIGITS = (1, 0, 7, 1, 0)
READ_TIMEOUT_MS = 20_000
BOARD_TIMEOUT_MS = 30_000  # the board refreshes every 2 s; the CPU may be busy

# The counts written in the board's confusion matrix, as a 10x10 list (plotly's own data).
CONFUSION_COUNTS = """() => {
  const plot = document.querySelector('.st-key-class_confusion .js-plotly-plot');
  if (!plot || !plot.data) return null;
  const labels = plot.data.find((trace) => trace.mode === 'text');
  return labels ? labels.text.map(Number) : null;
}"""


def _student_sends(tab, app_url: str, code: str, digit: int) -> None:
    from playwright.sync_api import expect

    from tests.browser import DIGIT_STROKES, draw, metric_value, open_app, wait_until_idle

    open_app(tab, app_url, "class")
    tab.get_by_label("Class code").fill(code.lower())
    tab.locator(".st-key-class_join button").click()
    expect(tab.get_by_role("heading", name=f"Class {code}")).to_be_visible(
        timeout=READ_TIMEOUT_MS)
    wait_until_idle(tab)
    draw(tab, DIGIT_STROKES[digit])
    expect(metric_value(tab, "The model reads")).to_have_text(str(digit),
                                                              timeout=READ_TIMEOUT_MS)
    tab.locator(".st-key-class_label_0").get_by_role("radio", name=str(digit),
                                                     exact=True).click()
    tab.locator(".st-key-class_send button").click()
    expect(tab.get_by_text(f"Sent: you drew a {digit}")).to_be_visible(timeout=READ_TIMEOUT_MS)


def test_five_students_draw_and_the_board_counts_them(browser, app_url: str,
                                                      artifacts_dir: Path):
    from playwright.sync_api import expect

    from tests.browser import metric_value, new_tab, open_app

    contexts = []
    try:
        context, teacher = new_tab(browser)
        contexts.append(context)
        open_app(teacher, app_url, "class")
        teacher.locator(".st-key-class_start button").click()
        expect(teacher).to_have_url(re.compile(r"/class\?board=\w+&key="),
                                    timeout=READ_TIMEOUT_MS)
        code = re.search(r"board=(\w+)", teacher.url).group(1)
        expect(teacher.get_by_role("heading", name=f"Class session {code}")).to_be_visible(
            timeout=READ_TIMEOUT_MS)
        expect(metric_value(teacher, "Digits drawn")).to_have_text("0", timeout=READ_TIMEOUT_MS)
        assert sum(teacher.wait_for_function(CONFUSION_COUNTS,
                                            timeout=BOARD_TIMEOUT_MS).json_value()) == 0
        for digit in STUDENT_DIGITS:
            context, student = new_tab(browser)
            contexts.append(context)
            _student_sends(student, app_url, code, digit)
        expect(metric_value(teacher, "Digits drawn")).to_have_text(
            str(len(STUDENT_DIGITS)), timeout=BOARD_TIMEOUT_MS)
        expect(metric_value(teacher, "Students")).to_have_text(str(len(STUDENT_DIGITS)),
                                                           timeout=BOARD_TIMEOUT_MS)
        counts = teacher.wait_for_function(
            f"() => {{ const c = ({CONFUSION_COUNTS})(); "
            f"return c && c.reduce((a, b) => a + b, 0) === {len(STUDENT_DIGITS)} ? c : null; }}",
            timeout=BOARD_TIMEOUT_MS).json_value()
        cells = [counts[10 * d + d] for d in range(10)]  # the diagonal: read right
        assert cells[1] == 2 and cells[0] == 2 and cells[7] == 1
        teacher.screenshot(path=artifacts_dir / "browser_class_board.png", full_page=True)
    finally:
        for context in contexts:
            context.close()
