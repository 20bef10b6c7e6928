"""The daemon's one worker thread: every pass and every state db call runs on it, in order.

The state db and the command connection are bound to this thread, so passes never overlap.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
STOP_GRACE = 8.0


class Abandoned(Exception):  # noqa: N818 -- a public name; renaming would break callers
    """The pass in flight did not finish within the stop grace period."""


class Worker:
    """One thread that runs submitted calls in order (the state db is bound to it)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="decliner worker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            call, future = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # noqa: BLE001 -- handed to the awaiting coroutine
                    future.set_exception(exc)

    async def run(self, call: Callable[[], T]) -> T:
        """Run `call` on the worker thread and await its result."""
        future: Future[T] = Future()
        self._queue.put((call, future))
        return await asyncio.wrap_future(future)

    async def run_or_abandon(self, call: Callable[[], T], stopping: asyncio.Event) -> T:
        """Run `call`; on a stop, give it STOP_GRACE seconds, then raise Abandoned."""
        job = asyncio.ensure_future(self.run(call))
        stop = asyncio.ensure_future(stopping.wait())
        done, _pending = await asyncio.wait({job, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if job not in done:
            try:
                return await asyncio.wait_for(asyncio.shield(job), STOP_GRACE)
            except TimeoutError:
                raise Abandoned from None
        return job.result()

    def close(self) -> None:
        """Let the thread finish what it has and end."""
        self._queue.put(None)
