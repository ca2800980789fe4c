"""Train: the recipe as a form, Start, live curves, Cancel, and what came out of it.

The training runs as a background job (training.jobs) in its own process, so this page
stays responsive and any tab or reload follows the same run. Widget keys are documented
for tests: `train_preset`, `train_run_on`, `train_<field>` (see training.recipes),
`train_experiment`, `train_start`, `train_cancel`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages.common import training_panels as panels
from pages.common.state import ensure_app_frame
from training import jobs
from training.config import PRESETS, SCHEDULES, ConfigError
from training.recipes import form_values, from_form, to_cli_args

RUN_ON = ("This machine", "Azure ML")
JOB_KEY = "train_job_id"


def recipe_form(preset: str) -> tuple[dict[str, Any], str, bool]:
    """The form: (its values, the experiment name, whether Start was pressed)."""
    d = form_values(PRESETS[preset])
    k = f"train_{preset}_"  # a preset's own keys, so switching presets resets the form
    with st.form("train_form", border=True):
        blocks, train_cols, data_cols = st.columns(3)
        with blocks:
            st.markdown("**Network**")
            filters = st.text_input("Filters per block", d["filters"], key=k + "filters",
                                    help="channels of each conv block, e.g. 16,32,64")
            convs = st.text_input("Convolutions per block", d["convs"], key=k + "convs",
                                  help="e.g. 1,1,2; empty: one each, two in the last")
            dropout = st.number_input("Dropout", value=float(d["dropout"]), step=0.05,
                                      key=k + "dropout")
        with train_cols:
            st.markdown("**Training**")
            epochs = st.number_input("Epochs", value=int(d["epochs"]), step=1,
                                     key=k + "epochs")
            batch = st.number_input("Batch size", value=int(d["batch_size"]), step=32,
                                    key=k + "batch_size")
            rate = st.number_input("Learning rate", value=float(d["learning_rate"]),
                                   step=1e-4, format="%.4f", key=k + "learning_rate")
            schedule = st.selectbox("Schedule", SCHEDULES, index=SCHEDULES.index(d["schedule"]),
                                    key=k + "schedule")
        with data_cols:
            st.markdown("**Data**")
            augment = st.toggle("Augmentation", value=bool(d["augment"]), key=k + "augment")
            strength = st.number_input("Augmentation strength", value=float(
                d["augment_strength"]), step=0.1, key=k + "augment_strength")
            limit = st.number_input("Data limit (training digits, 0 = all)",
                                    value=int(d["limit"]), step=1000, key=k + "limit")
            experiment = st.text_input("Experiment", "digit-studio", key="train_experiment")
        start = st.form_submit_button("Start", icon=":material/play_arrow:", type="primary",
                                      key="train_start")
    values = {"filters": filters, "convs": convs, "epochs": epochs, "batch_size": batch,
              "learning_rate": rate, "schedule": schedule, "dropout": dropout,
              "augment": augment, "augment_strength": strength, "limit": limit}
    return values, experiment, start


def start_here(preset: str, values: dict[str, Any], experiment: str) -> None:
    try:
        cfg = from_form(preset, values)
        job = jobs.start_training(cfg, experiment=experiment,
                                  title=f"Training ({preset} recipe)")
    except (ConfigError, jobs.JobError) as exc:
        st.error(str(exc))
        return
    st.session_state[JOB_KEY] = job.id


def current_job() -> jobs.Job | None:
    """This session's job, else the server's latest training (a reload, a second tab)."""
    job_id = st.session_state.get(JOB_KEY)
    if job_id:
        try:
            return jobs.refresh(jobs.load(job_id))
        except jobs.JobError:
            st.session_state.pop(JOB_KEY, None)
    return jobs.latest("train")


def main() -> None:
    st.title("Train a model")
    st.caption("Pick a recipe, press Start, and watch the network learn: loss and accuracy "
               "on the digits it trains on against digits it has never seen.")
    # The run's panel goes on top and is filled after the form has had its say (Start).
    slot = st.container()
    st.subheader("Recipe")
    top = st.columns([2, 3])
    preset = top[0].selectbox("Preset", sorted(PRESETS), index=sorted(PRESETS).index(
        "classroom"), key="train_preset")
    run_on = top[1].radio("Run on", RUN_ON, horizontal=True, key="train_run_on")
    values, experiment, start = recipe_form(preset)
    if run_on == RUN_ON[1]:
        try:
            args = [*to_cli_args(from_form(preset, values), preset), "--experiment", experiment]
        except ConfigError as exc:
            st.error(str(exc))
            return
        with slot:
            panels.azure_panel(args, submitted=start)
        return
    if start:
        with slot:
            start_here(preset, values, experiment)
    job = current_job()
    if job is None or not job.active:
        jobs.ensure_standby()  # TensorFlow imported ahead, so the next Start is quick
    with slot:
        if job is None:
            st.info("No training yet on this server: set the recipe below and press Start.")
        elif job.active:
            panels.live_panel(job.id)
        else:
            panels.results(job)


ensure_app_frame("train")
main()
