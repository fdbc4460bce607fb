"""Config keys and values shown back in error messages: escaped and cut short.

A config file or a flag is untrusted text. Echoed raw, a key holding ESC sequences would drive
the user's terminal, and a 1 MB value would flood it. Plain Python, no imports: the CLI's error
path uses it too.
"""

from __future__ import annotations

ECHO_LIMIT = 80
# A whole error line: room for a cloud message and its request id, not for an echoed megabyte.
ERROR_LIMIT = 600


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clean(text: str) -> str:
    """`text` with every non-printable character (ESC, CR, newline, bidi overrides, ...) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def echo(value) -> str:
    """A value as an error message shows it: repr-quoted, escaped, at most ~80 characters."""
    if isinstance(value, str):   # repr escapes what is not printable
        return repr(value[:ECHO_LIMIT]) + ("..." if len(value) > ECHO_LIMIT else "")
    return cut(clean(repr(value)))
