"""Stopping cleanly (training.cancel): a first Ctrl-C is noted and stops at the next safe
point, a second stops at once, and a stage that writes nothing stops at once.

The signal's effect on a real run in a real MLflow store (KILLED, nothing logged) is in
tests/test_tracking.py.
"""

from __future__ import annotations

import os
import signal
import time

import pytest


def _first_ctrl_c() -> None:
    """Send this process Ctrl-C. A bare KeyboardInterrupt at once (Ctrl-C not handled)
    fails the test that sent it, instead of stopping the whole test session."""
    from training.cancel import Cancelled

    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here at the latest
    except Cancelled:
        raise
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C raised at once: `cancel_on_signals` does not handle it")


def test_a_second_ctrl_c_stops_at_once() -> None:
    from training import cancel

    before = signal.getsignal(signal.SIGINT)
    with cancel.cancel_on_signals():
        _first_ctrl_c()  # noted, nothing raised
        with pytest.raises(cancel.Cancelled):
            cancel.raise_if_cancelled()
        with pytest.raises(KeyboardInterrupt) as raised:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # interrupted at once
        assert not isinstance(raised.value, cancel.Cancelled)
    assert signal.getsignal(signal.SIGINT) is before  # restored


def test_a_signal_while_the_data_loads_stops_at_once(capfd) -> None:
    from training import cancel

    started = time.monotonic()
    # As `train` loads its data: no run is open yet.
    with (cancel.cancel_on_signals(), pytest.raises(cancel.Cancelled) as raised,
          cancel.stop_at_once()):
        _first_ctrl_c()
        time.sleep(5)  # interrupted at once
    assert time.monotonic() - started < 1
    assert str(raised.value) == cancel.CANCELLED_EARLY  # "no run was begun"
    assert "press Ctrl-C again" not in capfd.readouterr().err  # no batch to wait for
