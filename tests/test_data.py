"""Tests for training.data against the real MNIST files, local folders and loopback mirrors."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from training.data import (
    FILES,
    Mnist,
    MnistError,
    default_cache_dir,
    find_mnist_dir,
    load_mnist,
    mnist_available,
    prepare,
    to_model_input,
)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SMALL = "t10k-labels-idx1-ubyte"  # the smallest file keeps corruption tests fast


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path) -> Mnist:
    return load_mnist(mnist_dir)


def _raw(mnist_dir: Path, stem: str) -> bytes:
    return gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes())


def _folder(tmp: Path, mnist_dir: Path, stem: str, data: bytes, *, gz: bool = True) -> Path:
    """A folder holding ``data`` as ``stem`` and the other three real files (symlinked)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for other in FILES:
        if other != stem:
            (tmp / f"{other}.gz").symlink_to(mnist_dir / f"{other}.gz")
    (tmp / (f"{stem}.gz" if gz else stem)).write_bytes(
        gzip.compress(data, compresslevel=1) if gz else data
    )
    return tmp


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


class _Server(http.server.ThreadingHTTPServer):
    requests: list[str]
    url: str


@pytest.fixture
def serve() -> Iterator[Callable[[Path], _Server]]:
    """Start real HTTP mirrors on loopback; each serves one folder and records its requests."""
    servers: list[_Server] = []

    def start(folder: Path) -> _Server:
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, *args: object) -> None:
                server.requests.append(self.path)

            def log_message(self, *args: object) -> None:
                pass  # keep pytest output clean

        server = _Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        server.requests = []
        server.url = f"http://127.0.0.1:{server.server_address[1]}/"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def good_mirror(serve: Callable[[Path], _Server], mnist_dir: Path, tmp_path: Path) -> _Server:
    folder = tmp_path / "good-mirror"
    folder.mkdir()
    for stem in FILES:
        shutil.copy(mnist_dir / f"{stem}.gz", folder)
    return serve(folder)


@pytest.fixture
def corrupt_mirror(serve: Callable[[Path], _Server], mnist_dir: Path, tmp_path: Path) -> _Server:
    data = _flip(_raw(mnist_dir, SMALL), 100)
    return serve(_folder(tmp_path / "corrupt-mirror", mnist_dir, SMALL, data))


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)


def _is_one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and ". " not in message


# --- the real data -------------------------------------------------------------------------


def test_loads_real_mnist_from_env(mnist_dir: Path) -> None:
    data = load_mnist()
    assert data.x_train.shape == (60000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.y_train.shape == (60000,) and data.y_train.dtype == np.uint8
    assert data.x_test.shape == (10000, 28, 28) and data.x_test.dtype == np.uint8
    assert data.y_test.shape == (10000,) and data.y_test.dtype == np.uint8
    assert np.bincount(data.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(data.y_test).tolist() == TEST_COUNTS
    assert data.x_train.min() == 0 and data.x_train.max() == 255
    assert data.source == mnist_dir.resolve()
    assert data.checksums == {stem: spec.sha256 for stem, spec in FILES.items()}
    assert mnist_available()


def test_cached_arrays_are_shared_and_read_only(mnist_dir: Path) -> None:
    first, second = load_mnist(mnist_dir), load_mnist(mnist_dir)
    assert first.x_train is second.x_train
    with pytest.raises(ValueError):
        first.x_train[0, 0, 0] = 1


def test_explicit_dir_beats_env(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_DIR", "/nonexistent/mnist")
    assert find_mnist_dir(mnist_dir) == mnist_dir.resolve()


def test_uncompressed_files_load_the_same(mnist: Mnist, mnist_dir: Path, tmp_path: Path) -> None:
    for stem in FILES:
        (tmp_path / stem).write_bytes(_raw(mnist_dir, stem))
    raw = load_mnist(tmp_path)
    assert raw.source == tmp_path.resolve()
    np.testing.assert_array_equal(raw.x_train, mnist.x_train)
    np.testing.assert_array_equal(raw.y_test, mnist.y_test)
    assert raw.checksums == mnist.checksums


# --- bad local files -----------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize(
    ("stem", "damage", "words"),
    [
        (SMALL, lambda d: _flip(d, 5000), "SHA-256"),
        ("t10k-images-idx3-ubyte", lambda d: _flip(d, 400_000), "SHA-256"),
        (SMALL, lambda d: d[:-1], "truncated"),
        (SMALL, lambda d: d[:5], "truncated"),
        (SMALL, lambda d: d + b"\0", "longer than its header"),
        (SMALL, lambda d: (2051).to_bytes(4, "big") + d[4:], "magic number 2051"),
        ("t10k-images-idx3-ubyte", lambda d: _flip(d, 11), "declares shape"),
    ],
    ids=["flip-labels", "flip-images", "short", "header-only", "long", "magic", "rows"],
)
def test_bad_file_is_rejected(
    mnist_dir: Path,
    tmp_path: Path,
    stem: str,
    damage: Callable[[bytes], bytes],
    words: str,
    gz: bool,
) -> None:
    folder = _folder(tmp_path, mnist_dir, stem, damage(_raw(mnist_dir, stem)), gz=gz)
    with pytest.raises(MnistError, match=words) as caught:
        load_mnist(folder)
    assert stem in str(caught.value) and _is_one_sentence(str(caught.value))
    assert not mnist_available(folder)


def test_broken_gzip_is_rejected(mnist_dir: Path, tmp_path: Path) -> None:
    (tmp_path / f"{SMALL}.gz").write_bytes((mnist_dir / f"{SMALL}.gz").read_bytes()[:-100])
    for other in set(FILES) - {SMALL}:
        (tmp_path / f"{other}.gz").symlink_to(mnist_dir / f"{other}.gz")
    with pytest.raises(MnistError, match=f"{SMALL} .*gzip"):
        find_mnist_dir(tmp_path)


def test_missing_file_in_explicit_dir(mnist_dir: Path, tmp_path: Path, no_env: None) -> None:
    for stem in set(FILES) - {SMALL}:
        (tmp_path / f"{stem}.gz").symlink_to(mnist_dir / f"{stem}.gz")
    with pytest.raises(MnistError, match=f"{tmp_path}.* lacks {SMALL}") as caught:
        find_mnist_dir(tmp_path)
    assert "MNIST_DIR" in str(caught.value) and _is_one_sentence(str(caught.value))
    with pytest.raises(MnistError, match="does not exist"):
        find_mnist_dir(tmp_path / "nope")


def test_bad_env_dir_does_not_fall_back(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good_mirror: _Server
) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    with pytest.raises(MnistError, match=r"\$MNIST_DIR\) lacks"):
        find_mnist_dir(cache_dir=mnist_dir, mirrors=[good_mirror.url])
    assert good_mirror.requests == []


# --- the cache and downloads ---------------------------------------------------------------


def test_download_fills_empty_cache(good_mirror: _Server, tmp_path: Path, no_env: None) -> None:
    cache = tmp_path / "cache" / "mnist"
    assert not mnist_available(cache_dir=cache)
    assert find_mnist_dir(cache_dir=cache, mirrors=[good_mirror.url]) == cache.resolve()
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in FILES)
    assert len(good_mirror.requests) == 4
    data = load_mnist(cache_dir=cache, download=False)
    assert data.checksums == {stem: spec.sha256 for stem, spec in FILES.items()}
    assert mnist_available(cache_dir=cache)
    # A filled cache needs no network at all.
    assert find_mnist_dir(cache_dir=cache, mirrors=[]) == cache.resolve()
    assert len(good_mirror.requests) == 4


def test_default_cache_follows_xdg(
    good_mirror: _Server, tmp_path: Path, no_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "digit-studio" / "mnist"
    assert default_cache_dir() == cache
    assert load_mnist(mirrors=[good_mirror.url]).source == cache.resolve()


def test_corrupt_and_missing_mirrors_fall_back(
    serve: Callable[[Path], _Server],
    corrupt_mirror: _Server,
    good_mirror: _Server,
    tmp_path: Path,
    no_env: None,
) -> None:
    (tmp_path / "empty-mirror").mkdir()
    empty = serve(tmp_path / "empty-mirror")  # answers 404 for everything
    cache = tmp_path / "cache"
    mirrors = [empty.url, corrupt_mirror.url, good_mirror.url]
    assert load_mnist(cache_dir=cache, mirrors=mirrors).source == cache.resolve()
    assert len(empty.requests) == 4
    assert good_mirror.requests == [f"/{SMALL}.gz"]
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_only_corrupt_mirror_leaves_cache_empty(
    corrupt_mirror: _Server, tmp_path: Path, no_env: None
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(MnistError, match=f"{SMALL}.*SHA-256") as caught:
        find_mnist_dir(cache_dir=cache, mirrors=[corrupt_mirror.url])
    assert "MNIST_DIR" in str(caught.value) and _is_one_sentence(str(caught.value))
    assert not cache.exists() or not list(cache.iterdir())


def test_damaged_cache_file_is_fetched_again(
    good_mirror: _Server, mnist_dir: Path, tmp_path: Path, no_env: None
) -> None:
    cache = _folder(tmp_path / "cache", mnist_dir, SMALL, _raw(mnist_dir, SMALL)[:-10], gz=False)
    assert load_mnist(cache_dir=cache, mirrors=[good_mirror.url]).y_test.shape == (10000,)
    assert good_mirror.requests == [f"/{SMALL}.gz"]
    assert not (cache / SMALL).exists()


def test_no_network_no_copy_says_how_to_fix(
    closed_port_url: str, tmp_path: Path, no_env: None
) -> None:
    with pytest.raises(MnistError) as caught:
        find_mnist_dir(cache_dir=tmp_path / "cache", mirrors=[closed_port_url, closed_port_url])
    message = str(caught.value)
    assert "MNIST_DIR" in message and "could not be downloaded" in message
    assert _is_one_sentence(message)
    assert not (tmp_path / "cache").exists()


def test_no_download_means_no_network(tmp_path: Path, no_env: None) -> None:
    with pytest.raises(MnistError, match=r"No verified MNIST copy.*MNIST_DIR"):
        find_mnist_dir(cache_dir=tmp_path, mirrors=["http://127.0.0.1:9/"], download=False)


# --- model input and splits ----------------------------------------------------------------


def test_to_model_input_normalises_once() -> None:
    images = np.array([[[0, 128, 255] + [0] * 25] * 28], dtype=np.uint8)
    x = to_model_input(images)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x[0, 0, :3, 0].tolist() == [0.0, np.float32(128 / 255), 1.0]
    np.testing.assert_array_equal(to_model_input(images[..., np.newaxis]), x)
    with pytest.raises(TypeError):
        to_model_input(x[..., 0])
    with pytest.raises(ValueError):
        to_model_input(np.zeros((2, 27, 28), np.uint8))


def test_prepare_split_is_seeded_disjoint_and_model_ready(mnist: Mnist) -> None:
    splits = prepare(mnist, validation_split=0.1, seed=3)
    assert len(splits.x_train) == 54000 and len(splits.x_val) == 6000
    assert splits.x_train.shape[1:] == (28, 28, 1) and splits.x_test.shape == (10000, 28, 28, 1)
    for x in (splits.x_train, splits.x_val, splits.x_test):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    for y in (splits.y_train, splits.y_val, splits.y_test):
        assert y.dtype == np.int64
    train = {image.tobytes() for image in splits.x_train}
    assert not train & {image.tobytes() for image in splits.x_val}
    counts = np.bincount(splits.y_train, minlength=10) + np.bincount(splits.y_val, minlength=10)
    assert counts.tolist() == TRAIN_COUNTS
    assert splits.checksums == mnist.checksums


def test_prepare_is_deterministic_and_limit_keeps_shuffled_prefix(mnist: Mnist) -> None:
    a, b = prepare(mnist, 0.2, seed=7, limit=1000), prepare(mnist, 0.2, seed=7, limit=1000)
    assert (len(a.x_train), len(a.x_val), len(a.x_test)) == (800, 200, 10000)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(prepare(mnist, 0.2, seed=8, limit=1000).y_train, a.y_train)
    whole, prefix = prepare(mnist, 0.0, seed=7, limit=2000), prepare(mnist, 0.0, seed=7, limit=500)
    np.testing.assert_array_equal(prefix.x_train, whole.x_train[:500])
    assert len(prefix.x_val) == 0


@pytest.mark.parametrize(("split", "limit"), [(-0.1, None), (1.0, None), (0.5, 0), (0.1, 60001)])
def test_prepare_rejects_bad_arguments(mnist: Mnist, split: float, limit: int | None) -> None:
    with pytest.raises(ValueError):
        prepare(mnist, split, limit=limit)
