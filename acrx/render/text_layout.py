"""Wrapping and column layout for console text that people copy from: ARNs, domains, addresses
and URLs are never split, and no line carries trailing padding.

Rich's tables fold a long token at the column edge and pad every cell with spaces, so an ARN
copied from a CI log came out wrong. This module wraps at spaces only; a token wider than the
room it has stays whole on a line of its own (the line runs past the width; a terminal
soft-wraps it and a copy gives back the whole token).
"""

from __future__ import annotations

from rich.cells import cell_len

HANG = 4      # continuation lines sit this much deeper than the line they continue
GAP = "  "    # between table columns


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def wrap_line(line: str, width: int, hang: int = HANG) -> list[str]:
    """`line` wrapped at spaces to `width` cells; tokens are never split."""
    indent = _indent(line)
    words = line[indent:].split(" ")
    continuation = " " * (indent + hang)
    out: list[str] = []
    current = " " * indent + words[0]
    for word in words[1:]:
        if cell_len(current) + 1 + cell_len(word) <= width or not current.strip():
            current += " " + word
        else:
            out.append(current.rstrip())
            current = continuation + word
    out.append(current.rstrip())
    return out


def wrap_lines(lines: list[str], width: int, hang: int = HANG) -> list[str]:
    return [part for line in lines for part in wrap_line(line, width, hang)]


def min_width(lines: list[str], hang: int = HANG) -> int:
    """The narrowest column in which `lines` wrap without a token running past the edge."""
    need = 0
    for line in lines:
        indent = _indent(line)
        words = line[indent:].split(" ")
        need = max(need, indent + cell_len(words[0]),
                   *(indent + hang + cell_len(w) for w in words[1:]))
    return need


def natural_width(lines: list[str]) -> int:
    return max((cell_len(line) for line in lines), default=0)


def pad(text: str, width: int) -> str:
    return text + " " * max(width - cell_len(text), 0)
