"""The class-session store: codes, digits, the board, close/reset, export, concurrent writers."""

from __future__ import annotations

import io
import multiprocessing
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.classroom import (
    CODE_ALPHABET,
    CODE_LENGTH,
    FOOLED_CONFIDENCE,
    ClassError,
    ClassStore,
    normalize_code,
)

WRITERS = 8
DIGITS_EACH = 40


def _digit(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 10 + value % 8] = 255
    return image


@pytest.fixture
def store(tmp_path: Path) -> ClassStore:
    return ClassStore(tmp_path / "class.db")


def test_a_session_has_a_short_unambiguous_code(store: ClassStore):
    codes = {store.start().code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set(CODE_ALPHABET) & set("0O1IL2Z5S8B")
    code = codes.pop()
    assert store.get(f" {code[:2].lower()}-{code[2:]} ").code == code
    assert normalize_code("ab c-d") == "ABCD"
    with pytest.raises(ClassError, match="No class session has the code"):
        store.get("XXXXX")


def test_only_the_teachers_key_opens_the_board(store: ClassStore):
    session = store.start()
    assert store.teacher(session.code, session.teacher_key).code == session.code
    with pytest.raises(ClassError):
        store.teacher(session.code, "a guess")


def test_the_board_counts_accuracy_confusion_misread_and_fooled(store: ClassStore):
    code = store.start().code
    other = store.start().code
    # (student, predicted, confidence, label)
    drawn = [("a", 7, 0.99, 7), ("a", 1, 0.97, 7), ("b", 3, 0.55, 5), ("c", 3, 0.99, 3),
             ("c", 9, 0.95, 4)]
    ids = [store.add_digit(code, s, _digit(i), p, c, lab)
           for i, (s, p, c, lab) in enumerate(drawn)]
    store.add_digit(other, "z", _digit(0), 0, 0.9, 0)  # another class: not on this board
    board = store.board(code)
    assert (board.digits, board.students, board.correct) == (5, 3, 2)
    assert board.accuracy == pytest.approx(0.4)
    assert board.confusion.sum() == 5 and board.confusion[7, 1] == 1 and board.confusion[5, 3] == 1
    by_digit = board.accuracy_by_digit()
    assert by_digit[7] == 0.5 and by_digit[3] == 1.0 and np.isnan(by_digit[0])
    assert [d.id for d in board.misread] == [ids[4], ids[2], ids[1]]  # newest first
    assert [d.id for d in board.fooled] == [ids[1], ids[4]]  # surest first
    assert all(d.confidence >= FOOLED_CONFIDENCE for d in board.fooled)
    assert np.array_equal(board.misread[0].image, _digit(4))


def test_close_stops_new_digits_and_reset_forgets_them(store: ClassStore):
    code = store.start().code
    store.add_digit(code, "a", _digit(1), 1, 0.9, 1)
    store.close(code)
    assert not store.get(code).open
    with pytest.raises(ClassError, match="closed"):
        store.add_digit(code, "a", _digit(2), 2, 0.9, 2)
    assert store.board(code).digits == 1  # the board stays after closing
    store.reopen(code)
    assert store.reset(code) == 1
    assert store.board(code).digits == 0
    with pytest.raises(ClassError):
        store.add_digit(code, "a", _digit(2), 2, 0.9, 12)


def test_export_is_a_zip_of_one_folder_per_digit(store: ClassStore):
    code = store.start().code
    ids = [store.add_digit(code, "s", _digit(i), (i + 1) % 10, 0.8, i % 3) for i in range(6)]
    with zipfile.ZipFile(io.BytesIO(store.export_zip(code))) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{i % 3}/{ids[i]}.png" for i in range(6))
        picture = np.asarray(Image.open(io.BytesIO(archive.read(f"2/{ids[5]}.png"))))
    assert picture.shape == (28, 28) and np.array_equal(picture, _digit(5))


def _write_many(path: str, code: str, writer: int) -> None:
    store = ClassStore(path)
    for i in range(DIGITS_EACH):
        store.add_digit(code, f"w{writer}", _digit(i), i % 10, 0.9, (i + writer) % 10)


def test_concurrent_writers_in_threads_lose_nothing(store: ClassStore):
    code = store.start().code
    threads = [threading.Thread(target=_write_many, args=(str(store.path), code, w))
               for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    board = store.board(code)
    assert board.digits == WRITERS * DIGITS_EACH and board.students == WRITERS
    assert len({d.id for d in store.digits(code)}) == WRITERS * DIGITS_EACH


def test_concurrent_writers_in_processes_lose_nothing(store: ClassStore):
    code = store.start().code
    context = multiprocessing.get_context("spawn")  # like separate server processes
    workers = [context.Process(target=_write_many, args=(str(store.path), code, w))
               for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
    assert [p.exitcode for p in workers] == [0] * 4
    digits = store.digits(code)
    assert len(digits) == 4 * DIGITS_EACH
    assert sorted({d.student for d in digits}) == [f"w{w}" for w in range(4)]


def test_retraining_reads_the_export(store: ClassStore, tmp_path: Path):
    from training.feedback_set import load_feedback

    code = store.start().code
    for i in range(4):
        store.add_digit(code, "s", _digit(i), i, 0.9, (i * 3) % 10)
    (tmp_path / "class.zip").write_bytes(store.export_zip(code))
    examples = load_feedback(tmp_path / "class.zip")
    assert sorted(examples.labels.tolist()) == sorted((i * 3) % 10 for i in range(4))
    assert examples.images.shape[1:] == (28, 28)
