"""Deterministic identifiers under the world's seed, so runs are reproducible."""

from __future__ import annotations

import random
import string
import threading
import uuid


class IdFactory:
    def __init__(self, seed: int = 0):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def hex(self, n: int) -> str:
        with self._lock:
            return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def alnum(self, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        with self._lock:
            return str(self._rng.randint(1, 9)) + "".join(self._rng.choice(string.digits) for _ in range(n - 1))

    def request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128))).upper()

    def prefixed(self, prefix: str, n: int = 17) -> str:
        return f"{prefix}-{self.alnum(n)}"
