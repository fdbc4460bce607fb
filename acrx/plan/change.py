"""One planned change to one managed thing, and the two kinds of value a plan may hold that are
not plain data: values known only after apply (Ref) and secrets (Sensitive)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from enum import Enum
from collections.abc import Mapping   # isinstance on typing.Mapping costs ~5% of a fleet plan's CPU
from typing import Any, Iterator

KNOWN_AFTER_APPLY = "(known after apply)"
SENSITIVE = "(sensitive)"


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"

    def __str__(self) -> str:  # so f-strings show "create", not "Action.CREATE"
        return self.value


@dataclass(frozen=True)
class Ref:
    """A value that exists only once the change at `address` is applied, e.g. a new role's ARN.

    The executor replaces it with `outputs(address)[attribute]` before the dependent change runs.
    """

    address: str
    attribute: str
    label: str | None = None

    def __str__(self) -> str:
        return KNOWN_AFTER_APPLY

    def describe(self) -> str:
        return self.label or f"{self.attribute} of {self.address}"


class Sensitive:
    """A secret. Its str, repr and JSON form are "(sensitive)"; only `reveal()` gives the value.

    `source` says where the value can be read again (e.g. "env:ACRX_REGISTRY_ACCESS_KEY_SECRET"),
    so that a saved plan, which never holds the secret, can still be applied.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: Any, source: str | None = None):
        self._value = value
        self.source = source

    def reveal(self) -> Any:
        if self._value is not None:
            return self._value
        if self.source and self.source.startswith("env:"):
            name = self.source[4:]
            value = os.environ.get(name)
            if value:
                return value
            from acrx.errors import AcrxError

            raise AcrxError(f"the secret for this change is read from ${name}, which is not set")
        from acrx.errors import AcrxError

        raise AcrxError("a secret needed by this change is not available (saved plans never "
                        "hold secrets); plan again instead of applying a saved plan")

    def __str__(self) -> str:
        return SENSITIVE

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        # Two secrets compare by where they come from, never by value: comparing values would
        # let a plan's equality (and a fingerprint) depend on, and leak, the secret.
        return isinstance(other, Sensitive) and other.source == self.source

    def __hash__(self) -> int:
        return hash(("Sensitive", self.source))


@dataclass(frozen=True)
class Change:
    """What a step wants done at one address. `data` is what the handler (`kind`) needs."""

    address: str
    action: Action
    before: Any = field(default=None, hash=False)
    after: Any = field(default=None, hash=False)
    reason: str | None = None
    account: str | None = None
    kind: str | None = None
    depends_on: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.address, str) or not self.address or any(
                c.isspace() for c in self.address):
            raise ValueError(f"invalid change address {self.address!r}")
        try:
            action = Action(self.action)
        except ValueError:
            raise ValueError(f"{self.address}: unknown action {self.action!r}") from None
        object.__setattr__(self, "action", action)
        if isinstance(self.depends_on, str):
            object.__setattr__(self, "depends_on", (self.depends_on,))
        else:
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        if action in (Action.NOOP, Action.REPLACE) and not (self.reason and self.reason.strip()):
            raise ValueError(f"{self.address}: a {action} change must say why (reason)")
        if self.address in self.depends_on:
            raise ValueError(f"{self.address}: a change cannot depend on itself")

    @property
    def is_noop(self) -> bool:
        return self.action is Action.NOOP

    def refs(self) -> Iterator[Ref]:
        """Every Ref in `after` and `data`."""
        yield from iter_refs(self.after)
        yield from iter_refs(self.data)

    def all_dependencies(self) -> tuple[str, ...]:
        """Declared dependencies plus the addresses whose outputs this change refers to."""
        deps = list(self.depends_on)
        for ref in self.refs():
            if ref.address not in deps and ref.address != self.address:
                deps.append(ref.address)
        return tuple(deps)

    def with_values(self, after: Any, data: Mapping[str, Any]) -> "Change":
        return replace(self, after=after, data=data)

    def to_dict(self, *, saved: bool = False) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": self.action.value,
            "kind": self.kind,
            "account": self.account,
            "before": encode_value(self.before, saved=saved),
            "after": encode_value(self.after, saved=saved),
            "reason": self.reason,
            "depends_on": list(self.depends_on),
            **({"data": encode_value(dict(self.data), saved=saved)} if saved else {}),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Change":
        return cls(
            address=raw["address"], action=Action(raw["action"]),
            before=decode_value(raw.get("before")), after=decode_value(raw.get("after")),
            reason=raw.get("reason"), account=raw.get("account"), kind=raw.get("kind"),
            depends_on=tuple(raw.get("depends_on") or ()),
            data=decode_value(raw.get("data") or {}),
        )


def iter_refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from iter_refs(item)


def map_values(value: Any, fn) -> Any:
    """Rebuild `value` with `fn` applied to every Ref and Sensitive leaf (others kept)."""
    if isinstance(value, (Ref, Sensitive)):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: map_values(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_values(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(map_values(v, fn) for v in value)
    return value


def encode_value(value: Any, *, saved: bool = False) -> Any:
    """JSON form. For display a Ref is "(known after apply)" and a secret "(sensitive)"; a saved
    plan keeps markers that `decode_value` turns back into Ref/Sensitive (never the secret)."""

    def enc(leaf: Any) -> Any:
        if isinstance(leaf, Ref):
            if saved:
                return {"$ref": leaf.address, "attribute": leaf.attribute, "label": leaf.label}
            return KNOWN_AFTER_APPLY
        if saved:
            return {"$sensitive": True, "source": leaf.source}
        return SENSITIVE

    return jsonable(map_values(value, enc))


def decode_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "$ref" in value and set(value) <= {"$ref", "attribute", "label"}:
            return Ref(value["$ref"], value["attribute"], value.get("label"))
        if value.get("$sensitive") is True and set(value) <= {"$sensitive", "source"}:
            return Sensitive(None, source=value.get("source"))
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
