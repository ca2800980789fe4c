"""The README's teaching screenshots: `python -m tests.teaching_screenshots [--out DIR]`.

Starts the app on loopback with a class store of its own, draws a 7 with the mouse on
/draw and opens /inside; seeds a class session with real MNIST test digits (their true
labels as what the "students" meant, the shipped model's real answers, its real
mistakes among them) and photographs the teacher's board and the /data map.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from model import load_predictor
from model.classroom import ClassStore
from tests.browser import DIGIT_STROKES, chromium, draw, metric_value, open_app, streamlit_app
from training.data import load_mnist, to_model_input

OUT = Path(__file__).resolve().parent.parent / "assets" / "screenshots"
CLASS_SIZE = 24  # students
RIGHT_PER_STUDENT = 2


def seed_class(store: ClassStore) -> ClassStore:
    """A session whose digits are MNIST test digits, read by the shipped model."""
    session = store.start()
    mnist = load_mnist()
    predictor = load_predictor()
    proba = predictor.predict_proba(to_model_input(mnist.x_test))
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != mnist.y_test)[:8]
    right = np.flatnonzero(pred == mnist.y_test)[: CLASS_SIZE * RIGHT_PER_STUDENT]
    for n, index in enumerate(np.concatenate([right, wrong])):
        store.add_digit(session.code, f"student{n % CLASS_SIZE}", mnist.x_test[index],
                        int(pred[index]), float(proba[index].max()), int(mnist.y_test[index]))
    return session


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "monitor.db"
        os.environ["DIGIT_STUDIO_MONITOR_DB"] = str(db)
        session = seed_class(ClassStore(db))
        with streamlit_app(Path(folder) / "server.log") as url, chromium() as browser:
            shots = [("inside", 1400, 4300), ("class_board", 1400, 1500), ("data", 1400, 2800)]
            for name, width, height in shots:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(120_000)
                if name == "inside":
                    open_app(page, url, "draw")
                    draw(page, DIGIT_STROKES[7])
                    expect(metric_value(page, "Prediction")).to_have_text("7")
                    page.get_by_text("Look inside the network").click()
                    page.get_by_text("The 5 most similar training digits").wait_for()
                elif name == "class_board":
                    page.goto(f"{url}/class?board={session.code}&key={session.teacher_key}")
                    page.get_by_text("Digits that fooled the model").wait_for()
                else:
                    open_app(page, url, "data")
                    page.locator(".st-key-map_chart").wait_for()
                page.wait_for_timeout(4000)  # plotly's first paint
                page.screenshot(path=args.out / f"{name}.png")
                context.close()
                print(f"wrote {args.out / f'{name}.png'}")


if __name__ == "__main__":
    main()
