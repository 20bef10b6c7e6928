"""Capped exponential backoff with jitter, for reconnecting (SPEC 12: 1 s to 5 min)."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from `first` up to `cap`, each with up to 25 % random jitter."""

    def __init__(
        self, first: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
    ) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not cryptography

    def next(self) -> float:
        """The delay before the next try, after one more failure."""
        base: float = min(self.first * float(1 << min(self.failures, 30)), self.cap)
        self.failures += 1
        return min(base * (1 + self._rng.random() * 0.25), self.cap)

    def reset(self) -> None:
        """A success: start again from `first`."""
        self.failures = 0
