"""Read a YAML config file within bounds, so a hostile file is refused fast with one line.

An acrx.yaml is a few kilobytes, a few levels deep, with no need for many aliases. Unbounded,
a file could hang acrx (an alias bomb: nine levels of ten aliases expand to 10^9 nodes when
validation walks them), crash it (deep nesting exceeds Python's recursion limit) or leak a codec
traceback (binary or non-UTF-8 bytes). Checked here, before anything walks the document:

- size: at most MAX_BYTES, read no further;
- encoding: UTF-8 text without NUL bytes;
- shape, from the parser's event stream (flat, not recursive): nesting at most MAX_DEPTH, and
  at most MAX_NODES nodes once every alias is expanded (an alias counts as the size of what it
  names, computed once per anchor, so the check itself stays linear). An alias to a node that
  contains it (a cycle) is refused.

Every refusal is a UsageError (exit 2) of one line naming the file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from acrx.config.echo import clean
from acrx.errors import UsageError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
FIX = "acrx.yaml is a small, plain YAML mapping; write one with `acrx init`"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse(path: Path, why: str) -> UsageError:
    return UsageError(f"{clean(str(path))}: {why}", field="-f/--file", hint=FIX)


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {clean(str(path))}: {exc.strerror or exc}", field="-f/--file") from None
    if len(raw) > MAX_BYTES:
        raise _refuse(path, f"the file is larger than {MAX_BYTES // 1024} KiB; not a config file")
    if b"\x00" in raw:
        raise _refuse(path, "a binary file (it holds NUL bytes), not YAML text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def _check_shape(path: Path, text: str) -> None:
    """Depth and expanded size from the event stream; cycles refused."""
    open_nodes: list[list] = []          # [expanded size so far, anchor]
    sizes: dict[str, int] = {}           # anchor -> expanded size of its finished node
    total = 0

    def add(count: int) -> None:
        nonlocal total
        if open_nodes:
            open_nodes[-1][0] += count
        total += count
        if total > MAX_NODES:
            raise _refuse(path, f"more than {MAX_NODES} values once its aliases are expanded "
                                "(an alias bomb?); not a config file")

    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) >= MAX_DEPTH:
                raise _refuse(path, f"nested deeper than {MAX_DEPTH} levels; not a config file")
            open_nodes.append([1, event.anchor])
            total += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            size, anchor = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = size
            if open_nodes:
                open_nodes[-1][0] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for _, anchor in open_nodes):
                raise _refuse(path, f"the alias *{clean(str(event.anchor))[:40]} refers to a node that "
                                    "contains it")
            add(sizes.get(event.anchor, 0))   # an undefined alias is the parser's error below


def load_bounded(path: Path):
    """The parsed document of `path` (None when empty), or a one-line UsageError."""
    text = _read_text(path)
    try:
        _check_shape(path, text)
        return yaml.load(text, Loader=_Loader)   # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{clean(str(path))}{where}: not valid YAML: {clean(str(problem))[:120]}") from None
    except RecursionError:   # a last guard; the depth bound above should make it unreachable
        raise _refuse(path, "nested too deeply; not a config file") from None
