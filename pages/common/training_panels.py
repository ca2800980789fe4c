"""Widgets of the Train page: a job's live progress, its results, registry buttons, Azure ML.

The page reads the job's files (training.jobs) at every refresh, so every tab and every
reload shows the same run; TensorFlow runs only in the job's own process.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import streamlit as st

from pages.common import charts
from pages.common import training_charts as tc
from training import jobs
from training.progress import Progress

REFRESH_S = 1.0  # the live panel redraws this often (the callback writes about as often)
LOG_LINES = 30
# While no version is champion the gate measures the shipped model on USPS once (~30 s).
GATE_SPINNER = ("Checking the gate (with no champion yet, the shipped model's USPS figure "
                "is measured once, about 30 s)…")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def curves(progress: Progress, key: str) -> None:
    """Loss and accuracy, training against validation, side by side."""
    for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
        column.plotly_chart(tc.learning_curve(progress.curve(metric),
                                              progress.curve(f"val_{metric}"), metric,
                                              epochs=progress.epochs or None),
                            key=f"{key}_{metric}")


def _status_line(job: jobs.Job, progress: Progress) -> None:
    if not progress.batches:
        st.progress(0.0, text=f"Starting: loading MNIST and TensorFlow… "
                              f"({duration(job.seconds)})")
        return
    if progress.ended:
        st.progress(1.0, text="Testing on the 10,000 MNIST test digits and saving the model…")
        return
    total = progress.epochs * progress.batches
    done = (progress.epoch - 1) * progress.batches + progress.batch if progress.epoch else 0
    st.progress(min(done / max(total, 1), 1.0),
                text=f"Epoch {max(progress.epoch, 1)} of {progress.epochs} · "
                     f"{duration(progress.seconds)} so far · about "
                     f"{duration(progress.eta)} left")
    st.progress(min(progress.batch / progress.batches, 1.0),
                text=f"Batch {progress.batch} of {progress.batches} in this epoch")


def latest_metrics(progress: Progress) -> None:
    last_batch = progress.batch_points[-1] if progress.batch_points else {}
    last_epoch = progress.epoch_points[-1] if progress.epoch_points else {}
    cols = st.columns(4)
    for col, (label, value) in zip(cols, (
            ("Loss", last_batch.get("loss")), ("Accuracy", last_batch.get("accuracy")),
            ("Validation loss", last_epoch.get("val_loss")),
            ("Validation accuracy", last_epoch.get("val_accuracy"))), strict=True):
        shown = "–" if value is None else (f"{value:.2%}" if "ccuracy" in label
                                           else f"{value:.4f}")
        col.metric(label, shown)


def _live(job_id: str) -> None:
    job = jobs.refresh(jobs.load(job_id))
    if not job.active:
        st.rerun()  # the whole page: the results replace the live view
    progress = job.progress()
    head, button = st.columns([5, 1])
    head.markdown(f"**{job.title}** · {job.status} · experiment `{job.experiment}`")
    if button.button("Cancel", icon=":material/stop:", key="train_cancel", type="primary"):
        jobs.cancel(job.id)
        st.rerun()
    _status_line(job, progress)
    latest_metrics(progress)
    curves(progress, "live")
    with st.expander("Log"):
        st.code(job.log_tail(LOG_LINES) or "(nothing yet)", language=None)


# run_every keeps redrawing just this part of the page: the form above is left alone.
live_panel = st.fragment(run_every=REFRESH_S)(_live)


def results(job: jobs.Job) -> None:
    """How a finished, cancelled or failed job ended."""
    progress = job.progress()
    if job.status == "cancelled":
        st.warning(f"{job.title} was cancelled after {duration(job.seconds)}; its MLflow run "
                   "is marked KILLED and nothing was registered.")
    elif job.status == "failed":
        st.error(f"{job.title} failed: {job.message}")
        with st.expander("Log", expanded=True):
            st.code(job.log_tail(LOG_LINES), language=None)
    if job.status != "finished":
        if progress.batch_points:
            curves(progress, "ended")
        return
    result = job.result
    st.success(f"{job.title} finished in {duration(job.seconds)}.")
    cols = st.columns(5)
    cols[0].metric("Test accuracy", f"{result['test_accuracy']:.2%}")
    cols[1].metric("Macro F1", f"{result['test_macro_f1']:.4f}")
    cols[2].metric("Calibration error", f"{result.get('test_ece') or 0:.4f}")
    cols[3].metric("Errors", f"{result['errors']:,} of {result['n']:,}")
    cols[4].metric("Parameters", f"{result['parameters']:,}")
    curves(progress, "ended")
    matrix, actions = st.columns([3, 2])
    with matrix:
        st.caption("Confusion matrix on the MNIST test digits")
        st.plotly_chart(charts.confusion_figure(np.asarray(result["confusion_matrix"])),
                        key="train_confusion")
    with actions:
        st.caption(f"Model folder `{job.output}` · MLflow run `{job.run_id}`")
        if job.run_id:
            registry_actions(job.run_id, key="train")


def registry_actions(run_id: str, key: str) -> None:
    """Register a run's model as a new version of digit-cnn, then promote it to champion
    through the registry's gate (its reason shown either way)."""
    from training.experiments import StoreError, register, try_promote

    versions: dict[str, Any] = st.session_state.setdefault("registered_versions", {})
    version = versions.get(run_id)
    if version is None:
        if st.button("Register", icon=":material/inventory_2:", key=f"{key}_register"):
            try:
                with st.spinner("Registering: checking the model's files and reading the "
                                "USPS test digits with it (about 30 s)…"):
                    versions[run_id] = register(run_id)
            except StoreError as exc:
                st.error(str(exc))
            else:
                st.rerun()
        return
    st.markdown(f"Registered as **digit-cnn v{version}**.")
    force = st.checkbox("Promote even if the gate refuses", key=f"{key}_force")
    if st.button("Promote to champion", icon=":material/military_tech:", key=f"{key}_promote"):
        try:
            with st.spinner(GATE_SPINNER):
                ok, reason = try_promote(version, force=force, reason="promoted on the Train page")
        except StoreError as exc:
            st.error(str(exc))
        else:
            (st.success if ok else st.warning)(reason)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def azure_panel(train_args: list[str], submitted: bool) -> None:
    """Run on Azure ML through `training.azure` (the Azure helper's package): submit and
    follow the job when a workspace is configured, else say what to set up and offer the
    dry-run YAML for `az ml job create --file`."""
    try:
        import training.azure as azure
    except ImportError:
        st.info("Azure ML support (training/azure) is not part of this installation.")
        return
    configured, sentence = azure.azure_status()
    st.caption(f"`python -m training.azure train {' '.join(train_args)}`")
    if not configured:
        st.info(sentence)
        if st.button("Prepare the job's YAML", key="azure_yaml"):
            with st.spinner("Writing and checking the specs with azure-ai-ml…"):
                st.session_state["azure_yaml_zip"] = _zip(azure.dry_run_specs("train", train_args))
        if "azure_yaml_zip" in st.session_state:
            st.download_button("Download the YAML (zip)", st.session_state["azure_yaml_zip"],
                               file_name="azureml-train.zip", mime="application/zip",
                               key="azure_yaml_download")
        return
    st.success(sentence)
    if submitted:
        try:
            name, url = azure.submit_train(train_args)
        except azure.NotConfigured as exc:
            st.error(str(exc))
            return
        st.session_state["azure_job"] = name
        st.markdown(f"Submitted **{name}**: [open it in Azure ML studio]({url})")
    name = st.session_state.get("azure_job")
    if name and st.button("Refresh the job's status", key="azure_refresh"):
        try:
            state = azure.job_status(name)
        except azure.NotConfigured as exc:
            st.error(str(exc))
        else:
            st.markdown(f"**{state['name']}**: {state['status']} · "
                        f"[studio]({state.get('studio_url', '')})")
