"""Send each finished stroke at once instead of 200 ms later.

streamlit-drawable-canvas 0.13 debounces the update it sends after a stroke by a
fixed 200 ms (its bundle's `Bc = 200`, with no option to change it): most of the
draw page's mouse-up-to-prediction time, measured with `tests.benchmarks.bench_draw`.
The canvas's toolbar has an "Update the app with this drawing" button that sends the
drawing immediately and cancels the pending send. This script-only component presses
that button as soon as a stroke that began on a canvas ends, so the server sees the
stroke one debounce earlier. Should a later canvas version rename the button, nothing
breaks: the canvas's own delayed send still runs, and the browser tests' timings show it.

It also keeps the canvas's toolbar off the drawing. The toolbar rests invisible (opacity
0) across the top 30 px of the canvas's right half and only slides above it 0.2 s after
the pointer hovers the canvas, so a stroke begun there at once, and every touch (a
phone or tablet never hovers), pressed the hidden toolbar instead of drawing: a 5, 7
or 9 begun at the top right lost its first stroke. A style sheet adopted by the
canvas's shadow root keeps the toolbar above the canvas's top edge, where the page
leaves room for it (`tests/test_browser.py` draws a stroke begun there).
"""

from __future__ import annotations

import streamlit as st

# The page's pointer listeners live on `window`, so a remount (or a second instance)
# adds nothing twice. `window.digitStudioSlowSend = true` turns them off, which the
# benchmark uses to time the canvas's own delay in the same run.
_JS = """
export default function () {
  if (window.digitStudioQuickSend) return;
  let canvasRoot = null;
  const onDown = (event) => {
    const target = event.composedPath().find(
      (el) => el instanceof Element && el.classList.contains("upper-canvas"));
    canvasRoot = target ? target.closest(".dc-root") : null;
  };
  const onUp = () => {
    const root = canvasRoot;
    canvasRoot = null;
    if (!root || window.digitStudioSlowSend) return;
    const send = root.querySelector(
      'button[aria-label="Update the app with this drawing"]');
    // A task later: the canvas's own mouse-up handler has stored the stroke by then.
    if (send) setTimeout(() => send.click(), 0);
  };
  // The canvas draws into its own shadow root, which page styles do not reach. Every
  // shadow root gets the (harmless elsewhere) rule as an adopted style sheet: roots made
  // later when they are made, roots already there at once. An adopted sheet is not a
  // child node, so the component rendering into its root cannot remove it. (Watching for
  // added hosts instead raced the component: a host added before its root was attached
  // was passed over for good.)
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(".dc-toolbar { top: -2.9rem !important; }");
  const keepToolbarOff = (root) => {
    if (!root.adoptedStyleSheets.includes(sheet)) {
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    }
    return root;
  };
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    return keepToolbarOff(attachShadow.call(this, init));
  };
  for (const host of document.querySelectorAll("*")) {
    if (host.shadowRoot) keepToolbarOff(host.shadowRoot);
  }
  document.addEventListener("pointerdown", onDown, true);
  document.addEventListener("pointerup", onUp, true);
  window.digitStudioQuickSend = true;
}
"""

_quick_send = st.components.v2.component("digit_studio.quick_send", js=_JS)


def send_strokes_at_once() -> None:
    """Mount the stroke sender (invisible) on a page that has a drawable canvas."""
    _quick_send(key="digit_studio_quick_send")
