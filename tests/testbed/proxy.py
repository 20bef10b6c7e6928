"""A loopback TCP proxy in front of a test server: counts IMAP commands, HTTP requests and
bytes, can stall.

Counting at the wire (rather than wrapping the client library) proves what the
code really sends; stalling lets tests make a live connection go silent.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from types import TracebackType
from typing import Self

_TAGGED = re.compile(rb"^[A-Za-z0-9]+ (UID )?([A-Za-z]+)")
_HTTP_REQUEST = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]$")


class Proxy:
    """Forwards 127.0.0.1:`port` to `target`; records each tagged client command."""

    def __init__(
        self, target_port: int, target_host: str = "127.0.0.1", *, delay: float = 0.0
    ) -> None:
        self.target = (target_host, target_port)
        self.delay = delay  # seconds added before each chunk the server sends back
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.commands: list[str] = []
        self.lines: list[bytes] = []
        self.requests: list[str] = []  # HTTP request lines, "METHOD path"
        self.heads: list[bytes] = []  # each HTTP request's header block, as sent
        self.bytes_up = 0  # client to server
        self.bytes_down = 0
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._replies = threading.Event()
        self._replies.set()
        self.hold_replies_after_data = False
        self.hold_replies_after_request = ""  # an HTTP method: its answer (and all after) held
        self.hold_replies_after_command = ""  # an IMAP command ("UID FETCH"): held once
        self.refuse: dict[str, bytes] = {}  # HTTP method -> an answer given instead, once
        self.bursts: dict[str, tuple[bytes, int, int]] = {}  # method -> (answer, skip, count)
        # (pattern, nth, cut): when the client's nth chunk holding pattern arrives, forward only
        # its first `cut` bytes (all when None), stop forwarding, and set `tripped`.
        self.trip: tuple[bytes, int, int | None] | None = None
        self.tripped = threading.Event()
        self.trip_drops = False  # at the wire, drop the connection instead of going silent
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        """Forget the commands, requests and bytes counted so far."""
        with self._lock:
            self.commands.clear()
            self.lines.clear()
            self.requests.clear()
            self.heads.clear()
            self.bytes_up = self.bytes_down = 0

    def stall(self) -> None:
        """Stop forwarding in both directions (connections stay open, silent)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again."""
        self._flowing.set()
        self._replies.set()

    def close(self) -> None:
        """Close the listener and every proxied connection."""
        self._closing = True
        self._flowing.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.close()
            except OSError:
                continue

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the server is down: the client sees its connection closed
                client.close()
                continue
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        pending = b""
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                if not from_client:
                    self._replies.wait()
                    if self.delay:
                        time.sleep(self.delay)
                if self._closing:
                    break
                with self._lock:
                    if from_client:
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
                if from_client and (answer := self._refusal(data)) is not None:
                    # A front end (load balancer) answers for the server, which never sees it.
                    source.sendall(answer)
                    break
                if from_client and (cut := self._tripwire(data)) is not None:
                    sink.sendall(data[:cut])
                    self.tripped.set()
                    if self.trip_drops:
                        break  # both ends closed below: a connection cut at that moment
                    self._flowing.clear()  # silent from now on: the test kills the client
                    continue
                if from_client:
                    pending = self._count(pending + data)
                    if _HTTP_REQUEST.match(data.split(b"\r\n", 1)[0]):
                        with self._lock:
                            self.heads.append(data.split(b"\r\n\r\n", 1)[0])
                    method = self.hold_replies_after_request.encode()
                    if method and data.startswith(method + b" "):
                        self._replies.clear()
                    command = self.hold_replies_after_command.encode()
                    if command and b" " + command + b" " in data:
                        self.hold_replies_after_command = ""  # until resume(), not again
                        self._replies.clear()
                    if self.hold_replies_after_data and b"\r\n.\r\n" in data:
                        # The server gets the whole message; its answer is held back.
                        self._replies.clear()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    continue

    def burst(self, method: str, answer: bytes, count: int, skip: int = 0) -> None:
        """Let `skip` requests of `method` through, then answer the next `count` with `answer`
        for the server (a front end's burst of 503s in the middle of a run)."""
        with self._lock:
            self.bursts[method] = (answer, skip, count)

    def _tripwire(self, data: bytes) -> int | None:
        """How much of `data` to forward if it trips the wire, else None."""
        with self._lock:
            if self.trip is None or self.trip[0] not in data:
                return None
            pattern, nth, cut = self.trip
            if nth > 1:
                self.trip = (pattern, nth - 1, cut)
                return None
            self.trip = None
        return len(data) if cut is None else cut

    def _refusal(self, data: bytes) -> bytes | None:
        with self._lock:
            for method, answer in list(self.refuse.items()):
                if data.startswith(method.encode() + b" "):
                    del self.refuse[method]
                    return answer
            for method, (answer, skip, count) in list(self.bursts.items()):
                if data.startswith(method.encode() + b" "):
                    if skip:
                        self.bursts[method] = (answer, skip - 1, count)
                        return None
                    if count > 1:
                        self.bursts[method] = (answer, 0, count - 1)
                    else:
                        del self.bursts[method]
                    return answer
        return None

    def _count(self, data: bytes) -> bytes:
        *lines, rest = data.split(b"\r\n")
        with self._lock:
            for line in lines:
                if request := _HTTP_REQUEST.match(line):
                    self.requests.append(f"{request.group(1).decode()} {request.group(2).decode()}")
                    continue
                match = _TAGGED.match(line)
                if match:
                    self.lines.append(line)
                    self.commands.append(
                        (match.group(1) or b"").decode() + match.group(2).decode().upper()
                    )
        return rest
