"""Experiments: every MLflow run in a table, runs compared, sweeps explained, the registry.

Data comes from training.experiments (MLflow); a store that cannot be read is one message
here and nothing else changes (the other pages keep reading digits). Keys for tests:
`exp_filter_experiments`, `exp_filter_text`, `exp_hide_trials`, `exp_compare`,
`exp_curve_metric`, `exp_sweep`, `reg_version`, `reg_reason`, `reg_force`, `reg_promote`,
`reg_rollback`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages.common import charts
from pages.common import training_charts as tc
from pages.common.state import ensure_app_frame
from pages.common.training_panels import GATE_SPINNER
from training import experiments as ex

PERCENT = st.column_config.NumberColumn(format="percent")
TABLE_COLUMNS = {
    "run": st.column_config.TextColumn("run"),
    "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
    "test_accuracy": PERCENT, "val_accuracy": PERCENT, "usps_accuracy": PERCENT,
    "test_macro_f1": st.column_config.NumberColumn(format="%.4f"),
    "parameters": st.column_config.NumberColumn(format="localized"),
}
HIDDEN = ["run_id", "parent", "is_sweep", "trial"]
OUTCOME_KEY = "reg_outcome"  # the gate's answer, kept across the rerun that shows it


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Filters above the table; returns the runs shown."""
    names = sorted(runs["experiment"].dropna().unique())
    left, middle, right = st.columns([3, 3, 2])
    chosen = left.multiselect("Experiments", names, key="exp_filter_experiments",
                              placeholder="All experiments")
    text = middle.text_input("Run name contains", key="exp_filter_text")
    hide = right.toggle("Hide sweep trials", key="exp_hide_trials")
    shown = runs
    if chosen:
        shown = shown[shown["experiment"].isin(chosen)]
    if text:
        shown = shown[shown["run"].fillna("").str.contains(text, case=False, regex=False)]
    if hide:
        shown = shown[shown["parent"].isna()]
    st.dataframe(shown.drop(columns=HIDDEN), hide_index=True, column_config=TABLE_COLUMNS,
                 key="exp_runs")
    st.caption(f"{len(shown):,} of {len(runs):,} runs · click a column header to sort")
    return shown


def compare_section(runs: pd.DataFrame, shown: pd.DataFrame) -> None:
    st.subheader("Compare runs")
    picked = st.multiselect("Runs to compare", shown["run_id"].tolist(),
                            format_func=lambda r: ex.label(runs, r), key="exp_compare",
                            placeholder="Pick two or more runs")
    if not picked:
        st.caption("Pick runs above to overlay their curves and line up their settings.")
        return
    metric = st.segmented_control("Curve", ex.CURVE_METRICS, default="val_accuracy",
                                  key="exp_curve_metric") or "val_accuracy"
    curves = ex.histories(picked, [metric])
    st.plotly_chart(tc.overlaid_curves({ex.label(runs, r): curves[r][metric] for r in picked},
                                       metric), key="exp_curves")
    params, metrics = st.columns(2)
    with params:
        st.markdown("**Parameters that differ**")
        diff = ex.compare_params(runs, picked)
        if diff.empty:
            st.caption("The runs share every parameter.")
        else:
            st.dataframe(diff, key="exp_param_diff")
    with metrics:
        st.markdown("**Metrics side by side**")
        st.dataframe(ex.compare_metrics(runs, picked), key="exp_metrics")
    if len(picked) < 2:
        return
    a, b = picked[:2]
    cm_a, cm_b = ex.confusion(a), ex.confusion(b)
    if cm_a is None or cm_b is None:
        st.caption("One of the first two runs has no model card, so no confusion matrices.")
        return
    st.markdown(f"**Confusion matrix of B − A** (A: {ex.label(runs, a)}, B: {ex.label(runs, b)})"
                " — red cells are mistakes B makes more often")
    st.plotly_chart(charts.confusion_diff_figure(cm_a, cm_b), key="exp_confusion_diff")


def sweep_section(runs: pd.DataFrame) -> None:
    st.subheader("Sweeps")
    found = ex.sweeps(runs)
    if not found:
        st.caption("No sweep yet: `python -m training.sweep --grid filters=2,5,10,20,32 "
                   "--limit 2000 --epochs 1` runs the hidden-channel experiment.")
        return
    parent = st.selectbox("Sweep", list(found), format_func=found.get, key="exp_sweep")
    trials = ex.trials(runs, parent)
    if trials.empty:
        st.caption("This sweep has no trials yet.")
        return
    done = trials.dropna(subset=[ex.OBJECTIVE])
    history, size = st.columns(2)
    with history:
        st.caption("Optimisation history: each trial's validation accuracy, and the best so far")
        st.plotly_chart(tc.optimisation_history(done[ex.OBJECTIVE].tolist(), ex.OBJECTIVE),
                        key="exp_history")
    with size:
        st.caption("Test accuracy against the network's size")
        sized = done.dropna(subset=["parameters", "test_accuracy"])
        st.plotly_chart(tc.accuracy_vs_size(sized["parameters"].tolist(),
                                            sized["test_accuracy"].tolist(),
                                            sized["run"].fillna("").tolist()), key="exp_size")
    columns, labels = ex.parallel_data(done)
    if len(columns) > 1:
        st.caption("Parallel coordinates: one line per trial, coloured by validation accuracy")
        st.plotly_chart(tc.parallel_coordinates(columns, ex.OBJECTIVE, labels),
                        key="exp_parallel")
    channels = ex.channel_curve(done)
    if channels is not None:
        st.caption("The hidden-channel experiment: test accuracy against the channels of "
                   "the convolution")
        st.plotly_chart(tc.accuracy_vs_channels(*channels), key="exp_channels")


def registry_section() -> None:
    st.subheader("Model registry")
    versions = ex.registry_versions()
    if not versions:
        st.caption("No registered model yet: the shipped model answers. Register a finished "
                   "run on the Train page or with `python -m training.registry register RUN_ID`.")
        return
    if OUTCOME_KEY in st.session_state:
        ok, why = st.session_state.pop(OUTCOME_KEY)
        (st.success if ok else st.warning)(why)
    table = pd.DataFrame(versions)
    table.insert(1, "role", np.where(table["champion"], "★ champion", ""))
    st.dataframe(table.drop(columns=["champion"]), hide_index=True, key="reg_versions",
                 column_config={"test_accuracy": PERCENT, "usps_accuracy": PERCENT})
    left, middle, right = st.columns([2, 4, 2])
    version = left.selectbox("Version", table["version"].tolist(), key="reg_version")
    reason = middle.text_input("Reason (recorded)", key="reg_reason")
    force = right.checkbox("Past the gate", key="reg_force",
                           help="promote even if the gate refuses; roll back to the shipped "
                                "model when there is no earlier champion")
    promote, rollback = st.columns(2)
    outcome = None
    if promote.button("Promote to champion", key="reg_promote", type="primary"):
        with st.spinner(GATE_SPINNER):
            outcome = ex.try_promote(version, force=force, reason=reason)
    if rollback.button("Roll back the champion", key="reg_rollback"):
        outcome = ex.try_rollback(force=force, reason=reason)
    if outcome is not None:  # shown after a rerun, so the table above shows the new champion
        st.session_state[OUTCOME_KEY] = outcome
        st.rerun()
    with st.expander("History of promotions and rollbacks"):
        st.dataframe(pd.DataFrame(ex.registry_history()), hide_index=True, key="reg_history")


def main() -> None:
    st.title("Experiments")
    st.caption(f"Every training run, tracked in MLflow at `{ex.where()}` "
               "(`make mlflow` opens MLflow's own UI on it).")
    try:
        runs = ex.runs_frame()
        if runs.empty:
            st.info("No runs yet: train one on the Train page or with "
                    "`python -m training.train --preset classroom`.")
        else:
            compare_section(runs, runs_table(runs))
            sweep_section(runs)
        registry_section()
    except ex.StoreError as exc:
        st.error(f"{exc} The other pages keep reading digits with the model they have.")


ensure_app_frame("experiments")
main()
