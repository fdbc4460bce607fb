"""A client that goes away is not a server fault: the sandbox's three HTTP servers (cloud, Kubernetes
API, registry) stay quiet about it, and never act on half a request.

socketserver prints a traceback for any exception that escapes a handler. A client killed or timed
out mid-call raises BrokenPipeError or ConnectionResetError on the server's next write, and a TLS
client that closes without close_notify (or speaks plain HTTP to the TLS port) raises an
ssl.SSLError. Those end the connection silently; anything else is still printed, since it is a
sandbox bug the operator should see.
"""

from __future__ import annotations

import errno
import ssl
import sys

_GONE_ERRNOS = {errno.EPIPE, errno.ECONNRESET, errno.ECONNABORTED, errno.ENOTCONN, errno.ESHUTDOWN, errno.EBADF}


def is_disconnect(exc: BaseException | None) -> bool:
    """True for the ways a vanished or misbehaving client shows up on the server side."""
    if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)):
        return True
    return isinstance(exc, OSError) and exc.errno in _GONE_ERRNOS


class QuietDisconnects:
    """Mix into a socketserver server class, before the server base class."""

    def handle_error(self, request, client_address) -> None:
        if is_disconnect(sys.exc_info()[1]):
            return
        super().handle_error(request, client_address)  # type: ignore[misc]


def read_body(rfile, content_length: str | None) -> bytes | None:
    """The request body, or None when the client closed before sending all of it or sent a
    Content-Length that is no length (then the request must not be acted on: a truncated YAML
    document or form can still parse)."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return None
    if length < 0:
        return None
    if length == 0:
        return b""
    try:
        body = rfile.read(length)
    except OSError as exc:
        if is_disconnect(exc):
            return None
        raise
    return body if len(body) == length else None
