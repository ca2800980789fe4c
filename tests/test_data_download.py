"""training.data's cache and downloads, against real HTTP mirrors on loopback."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mnist_files import SMALL, flip, folder_with, is_one_sentence, raw
from training.data import (
    FILES,
    MnistError,
    default_cache_dir,
    find_mnist_dir,
    load_mnist,
    mnist_available,
)


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
    data = flip(raw(mnist_dir, SMALL), 100)
    return serve(folder_with(tmp_path / "corrupt-mirror", mnist_dir, SMALL, data))


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_bad_env_dir_does_not_fall_back(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good_mirror: _Server
) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    with pytest.raises(MnistError, match=r"\$MNIST_DIR\) lacks"):
        find_mnist_dir(cache_dir=mnist_dir, mirrors=[good_mirror.url])
    assert good_mirror.requests == []


# --- the cache and downloads ---------------------------------------------------------------


def test_download_fills_empty_cache(good_mirror: _Server, tmp_path: Path,
                                    no_mnist_env: None) -> None:
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
    good_mirror: _Server, tmp_path: Path, no_mnist_env: None, monkeypatch: pytest.MonkeyPatch
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
    no_mnist_env: None,
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
    corrupt_mirror: _Server, tmp_path: Path, no_mnist_env: None
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(MnistError, match=f"{SMALL}.*SHA-256") as caught:
        find_mnist_dir(cache_dir=cache, mirrors=[corrupt_mirror.url])
    assert "MNIST_DIR" in str(caught.value) and is_one_sentence(str(caught.value))
    assert not cache.exists() or not list(cache.iterdir())


def test_damaged_cache_file_is_fetched_again(
    good_mirror: _Server, mnist_dir: Path, tmp_path: Path, no_mnist_env: None
) -> None:
    cache = folder_with(tmp_path / "cache", mnist_dir, SMALL, raw(mnist_dir, SMALL)[:-10], gz=False)
    assert load_mnist(cache_dir=cache, mirrors=[good_mirror.url]).y_test.shape == (10000,)
    assert good_mirror.requests == [f"/{SMALL}.gz"]
    assert not (cache / SMALL).exists()


def test_no_network_no_copy_says_how_to_fix(
    closed_port_url: str, tmp_path: Path, no_mnist_env: None
) -> None:
    with pytest.raises(MnistError) as caught:
        find_mnist_dir(cache_dir=tmp_path / "cache", mirrors=[closed_port_url, closed_port_url])
    message = str(caught.value)
    assert "MNIST_DIR" in message and "could not be downloaded" in message
    assert is_one_sentence(message)
    assert not (tmp_path / "cache").exists()


def test_no_download_means_no_network(tmp_path: Path, no_mnist_env: None) -> None:
    with pytest.raises(MnistError, match=r"No verified MNIST copy.*MNIST_DIR"):
        find_mnist_dir(cache_dir=tmp_path, mirrors=["http://127.0.0.1:9/"], download=False)
