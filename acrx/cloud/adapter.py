"""What every product adapter (RAM, STS, CS, CR, VPC, VpcPeer, CBN, PrivateZone) shares.

An adapter holds a client factory and a retry policy; every SDK call goes through
acrx.cloud.retry.invoke (translation + retries) and answers the body map in wire field names.
The SDK's models module is imported on first use only, so importing an adapter stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Callable, Iterator

from acrx.cloud import errors
from acrx.cloud.ratelimit import limited_client
from acrx.cloud.retry import RetryPolicy, invoke
from acrx.errors import CloudError

# A listing that has not ended after this many pages is a bug (ours or the cloud's), not data.
MAX_PAGES = 100
# How often a write whose answer was lost, and which a read shows did not happen, is sent again.
MAX_CONFIRMS = 3


def unwrap(container, inner: str | None = None) -> list:
    """The rows of a list field: RPC products wrap them as {"Vpc": [...]}, others send the list."""
    if isinstance(container, dict) and inner:
        return list(container.get(inner) or [])
    return list(container or [])


class CloudApi:
    """Base of the adapters. Subclasses set PRODUCT (the action prefix, e.g. "ram") and MODELS."""

    PRODUCT = ""
    MODELS = ""

    def __init__(self, client: Callable[[], object], policy: RetryPolicy | None = None, *, region: str = ""):
        self._client = client
        self._policy = policy
        self.region = region

    def _m(self):
        return importlib.import_module(self.MODELS)

    def _call(self, action: str, method: str, *args, idempotent: bool = False) -> dict:
        try:
            name = f"{self.PRODUCT}:{action}"
            # Each attempt waits for a token of the account's per-API bucket (acrx.cloud.ratelimit).
            do = lambda: invoke(limited_client(self._client, name, region=self.region), method, *args,  # noqa: E731
                                action=name,
                                policy=self._policy, idempotent=idempotent)
            memo, key = self._memo(name, method, args)
            return do() if memo is None or key is None else memo.read(key, do)
        except CloudError as err:
            if not errors.is_no_permission(err):
                raise
            # The session tags each SDK client with its account alias and side (session.py).
            client = self._client()
            raise errors.explain_no_permission(err, account=getattr(client, "acrx_account", None),
                                               side=getattr(client, "acrx_side", None)) from None

    def _create(self, action: str, method: str, *args, confirm: Callable[[], dict | None]) -> dict:
        """A write the server cannot deduplicate (its API takes no ClientToken: CreateRole,
        CreatePolicy, CreateUser, AttachPolicyTo*, InstallClusterAddons, CreateInstanceEndpointAclPolicy).
        When its answer is lost, read before writing
        again: `confirm()` answers the body the write would have answered when the thing now
        exists, else None, and only then is the write sent once more (issue 11: "where an API has no
        token, re-read before creating again"). A thing still invisible to reads (RAM's eventual
        consistency) makes the second write answer "already exists", which the handlers know."""
        for _ in range(MAX_CONFIRMS):
            try:
                return self._call(action, method, *args)
            except CloudError as err:
                if not getattr(err, "outcome_unknown", False):
                    raise
                found = confirm()
                if found is not None:
                    return found
                lost = err
        raise lost

    def _memo(self, name: str, method: str, args: tuple):
        """The fleet plan's shared read memo (acrx.cloud.read_memo) and this read's key, if any."""
        client = self._client()
        memo = getattr(getattr(client, "acrx_session", None), "read_memo", None)
        if memo is None:
            return None, None
        from acrx.cloud.read_memo import memo_key

        return memo, memo_key(client, name, method, args)

    def _read(self, action: str, method: str, *args) -> dict | None:
        """A read whose target may be missing: None then, instead of an error."""
        try:
            return self._call(action, method, *args, idempotent=True)
        except Exception as exc:
            if errors.is_not_found(exc):
                return None
            raise

    def _delete(self, action: str, method: str, *args, missing_ok: bool, idempotent: bool = False) -> bool:
        """True when deleted; False when already gone and missing_ok. `idempotent` lets the retry
        policy repeat the call after a lost connection (a repeated delete then answers "not found",
        which missing_ok turns into done)."""
        try:
            self._call(action, method, *args, idempotent=idempotent)
            return True
        except Exception as exc:
            if missing_ok and errors.is_not_found(exc):
                return False
            raise

    def _numbered_pages(self, action: str, method: str, make_request: Callable[[int], object], rows: str,
                        inner: str | None = None, *, page_size: int, total_key: str | None = None) -> Iterator[dict]:
        """Rows of a PageNumber/PageSize listing, page after page until a short page (or the total).

        A generator: a caller that stops early (found what it looked for) asks for no more pages.
        """
        seen = 0
        for page in range(1, MAX_PAGES + 1):
            body = self._call(action, method, make_request(page), idempotent=True)
            batch = unwrap(body.get(rows), inner)
            yield from batch
            seen += len(batch)
            total = int(body.get(total_key) or 0) if total_key else 0
            if len(batch) < page_size or (total and seen >= total):
                return

    def _token_pages(self, action: str, method: str, make_request: Callable[[str | None], object], rows: str,
                     inner: str | None = None) -> Iterator[dict]:
        """Rows of a NextToken listing, until the cloud answers no NextToken."""
        token = None
        for _ in range(MAX_PAGES):
            body = self._call(action, method, make_request(token), idempotent=True)
            yield from unwrap(body.get(rows), inner)
            token = body.get("NextToken")
            if not token:
                return
