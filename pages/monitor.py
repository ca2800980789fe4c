"""Monitor page: what the model was asked, how fast it answered, how it drifts, where it is wrong.

Everything here is read from the prediction log (`model.monitor_store`) and computed by
`training.monitor`; the figures come from `pages.common.monitor_charts`. Feedback
examples are reviewed and exported here, and "Retrain with feedback" runs
`python -m training.retrain` as the server's background job (`training.jobs`).
"""

from __future__ import annotations

import sqlite3
import sys

import streamlit as st

from model import feedback
from model.monitor_store import StoreError
from model.predlog import writer_state
from model.settings import SETTINGS
from pages.common import monitor_charts as charts
from pages.common.feedback import review_gallery
from pages.common.state import ensure_app_frame
from training import monitor

RETRAIN_KIND = "retrain"
RETRAIN_TITLE = "Retrain with feedback"
DEFAULT_WINDOW = "last day"
CHART_CONFIG = {"displayModeBar": False}


def _alerts(summary: dict) -> None:
    state = writer_state()
    if state["failing"]:
        st.error("The prediction log cannot be written right now; readings wait in memory "
                 f"({state['pending']}) until it works again.", icon=":material/database:")
    for line in summary["alerts"]:
        st.warning(line, icon=":material/warning:")


def _headline(summary: dict) -> None:
    requests, p50, p95, unsure, right = st.columns(5)
    lat = summary["latency_ms"]
    requests.metric("Readings", f"{summary['requests']:,}")
    p50.metric("Latency p50", "–" if lat["p50"] is None else f"{lat['p50']:.0f} ms")
    p95.metric("Latency p95", "–" if lat["p95"] is None else f"{lat['p95']:.0f} ms")
    share = summary["not_sure_share"]
    unsure.metric("Not sure", "–" if share is None else f"{share:.0%}")
    accuracy = summary["feedback"]["accuracy"]
    right.metric("Right, by feedback", "–" if accuracy is None else f"{accuracy:.0%}",
                 help=f"{summary['feedback']['count']} answers from users in this window")


def _traffic(df, window_s: float | None) -> None:
    minutes = monitor.bucket_minutes(df, window_s)
    bucket = f"{minutes}min"
    timeline = monitor.timeline(df, bucket)
    shown = monitor.time_range(window_s)
    st.plotly_chart(charts.requests_figure(timeline, minutes, shown), config=CHART_CONFIG,
                    key="monitor_requests")
    left, right = st.columns(2)
    left.plotly_chart(charts.latency_figure(timeline, shown), config=CHART_CONFIG,
                      key="monitor_latency")
    right.plotly_chart(charts.not_sure_figure(monitor.not_sure_over_time(df, bucket),
                                              SETTINGS.alert_not_sure_share, shown),
                       config=CHART_CONFIG, key="monitor_not_sure")
    st.caption(f"Each bar or point is {minutes} minute(s).")


def _drift(df, summary: dict) -> None:
    drift = summary["drift"]
    if drift["class_psi"] is None:
        st.info(f"Drift needs at least {monitor.MIN_FOR_DRIFT} digits read in the window "
                f"({drift['digits']} so far).", icon=":material/info:")
    mix = [summary["class_mix"][str(d)] for d in range(SETTINGS.num_classes)]
    left, right = st.columns(2)
    left.plotly_chart(charts.class_mix_figure(mix, monitor.MNIST_MIX, drift["class_psi"]),
                      config=CHART_CONFIG, key="monitor_mix")
    confidences = [c for row in df["confidences"] for c in row] if len(df) else []
    right.plotly_chart(charts.confidence_figure(
        monitor.CONFIDENCE_EDGES, monitor.confidence_histogram(confidences),
        monitor.reference_confidences(), drift["confidence_psi"]),
        config=CHART_CONFIG, key="monitor_confidence")
    st.caption(f"PSI (population stability index) above {SETTINGS.alert_drift_psi} means "
               "the readings no longer look like what the model learnt from.")


def _retrain() -> None:
    try:
        from training import jobs
    except ImportError:
        st.info("Background jobs are not available in this installation.")
        return
    job = jobs.latest(kind=RETRAIN_KIND)
    busy = jobs.active_job()
    st.markdown("Fine-tune the champion on MNIST, USPS and the feedback examples; the new "
                "version is registered and replaces the champion only if it passes the gate.")
    examples = sum(feedback.label_counts().values())
    if not examples:
        st.caption("There is no feedback to learn from yet: mark readings Right or Wrong on "
                   "Draw and Upload.")
    if st.button(RETRAIN_TITLE, icon=":material/model_training:", key="monitor_retrain",
                 disabled=busy is not None or not examples):
        try:
            job = jobs.start_command([sys.executable, "-m", "training.retrain", "--json"],
                                     title=RETRAIN_TITLE, kind=RETRAIN_KIND)
        except jobs.JobError as exc:
            st.error(str(exc))
    if busy is not None and (job is None or busy.id != job.id):
        st.caption(f"Another job is running: {busy.title}.")
    if job is not None:
        st.caption(f"{job.title}: **{job.status}** ({job.seconds:.0f} s) {job.message}")
        if job.active and st.button("Cancel", key="monitor_retrain_cancel"):
            jobs.cancel(job.id)
            st.rerun()
        with st.expander("Output", expanded=job.active):
            st.code(job.log_tail(30) or "(nothing yet)", language=None)


ensure_app_frame("monitor")
st.title("Monitor")
chosen = st.segmented_control("Window", list(monitor.WINDOWS), default=DEFAULT_WINDOW,
                              key="monitor_window") or DEFAULT_WINDOW
window_s = monitor.WINDOWS[chosen]
st.button("Refresh", icon=":material/refresh:", key="monitor_refresh")
try:
    df = monitor.window(window_s)
    summary = monitor.summarise(df, window_s)
except (StoreError, sqlite3.Error) as exc:  # scribbled over, locked: one sentence, no traceback
    st.error(f"The monitoring store cannot be read: {exc}.", icon=":material/database:")
    st.stop()
_alerts(summary)
_headline(summary)
traffic, drift, answers, retrain = st.tabs(["Traffic", "Drift", "Feedback", "Retrain"])
with traffic:
    _traffic(df, window_s)
with drift:
    _drift(df, summary)
with answers:
    st.plotly_chart(charts.feedback_accuracy_figure(summary["feedback"]["by_model"]),
                    config=CHART_CONFIG, key="monitor_feedback")
    review_gallery()
with retrain:
    _retrain()
