"""Typed values one step's plan hands to a later step's plan.

A producing step publishes them (acrx.steps.registry names which step publishes what, and who
reads it); `plan_setup` collects them in `ctx.outputs` before it plans the readers. A step planned
alone (`acrx configmap apply`, the doctor) finds none and reads the live state instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TypeVar

from acrx.plan.change import Ref

T = TypeVar("T")


@dataclass(frozen=True)
class AccessKeyOutput:
    """access-key mode: the AccessKey this plan creates for acrx's pull user in registry account
    `account`. Its id and secret exist only after apply, so both are Refs to the creating change."""

    account: str
    key_id: Ref
    secret: Ref


class Outputs:
    """The outputs published so far in one planning run, by type. Lanes plan on threads, hence the lock."""

    def __init__(self) -> None:
        self._items: list[object] = []
        self._lock = threading.Lock()

    def publish(self, *items: object) -> None:
        with self._lock:
            self._items.extend(items)

    def of(self, kind: type[T]) -> tuple[T, ...]:
        with self._lock:
            return tuple(item for item in self._items if isinstance(item, kind))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
