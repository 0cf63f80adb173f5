"""HTTP with limits, for `digest trial` and `digest check --links`: a total deadline on every request, and
answers of bounded size, read as they stream in.

httpx times out each read, never a whole request: a server that sends a byte every few seconds holds it for
ever. Here the sockets of its connections are given, on each read and write, the per-read timeout or the time
left before the deadline, whichever is shorter, by a network backend wrapped around httpcore's own.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import httpcore
import httpx

_local = threading.local()  # httpx's sync client reads and writes in the thread that made the request


class TooLarge(Exception):
    pass


def client(**options) -> httpx.Client:
    """An httpx.Client whose requests keep the deadline of `deadline()` around them (proxies from the
    environment included)."""
    made = httpx.Client(**options)
    for transport in (made._transport, *made._mounts.values()):
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            pool._network_backend = _Backend(pool._network_backend)
    return made


@contextmanager
def deadline(seconds: float):
    """Every request this thread makes inside ends by `seconds` from now, with httpx's own timeout errors."""
    _local.end = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.end = None


def read_body(response: httpx.Response, limit: int) -> bytes:
    """A streamed response's body, or TooLarge as soon as it passes `limit` bytes (decoded)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    end = getattr(_local, "end", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend):
        self._backend = backend

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(self._backend.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
