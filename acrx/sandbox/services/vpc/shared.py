"""Helpers the network services share: CIDR checks, paging and resource tags.

Kept inside the vpc package because VPC is the product the others (VpcPeer, CBN, PrivateZone)
lean on; nothing here knows about HTTP (`untag_keys` reads the parsed request parameters only).
"""

from __future__ import annotations

import ipaddress

from typing import Callable

from acrx.sandbox.core.errors import ApiError

# The cloud keeps this block for its own services (DNS 100.100.2.136, OSS, dockerauth...):
# a VPC route may not point into it (CreateRouteEntry answers InvalidCidrBlock).
CLOUD_SERVICE_BLOCK = ipaddress.ip_network("100.64.0.0/10")


def network(cidr: str, *, code: str = "InvalidCidrBlock.Malformed") -> ipaddress.IPv4Network:
    """A CIDR as the cloud reads it: a bare address means /32; host bits must be zero."""
    text = cidr if "/" in cidr else cidr + "/32"
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ApiError(code, f"Specified CIDR block is not valid: {cidr}.", 400) from None
    if net.version != 4:
        raise ApiError(code, f"Only IPv4 CIDR blocks are supported here: {cidr}.", 400)
    return net


def overlaps(a: str, b: str) -> bool:
    return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))


def covers(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
    except ValueError:
        return False


def page(items: list, page_number: int | None, page_size: int | None, *, default_size: int = 10,
         max_size: int = 50) -> tuple[list, int, int]:
    """PageNumber/PageSize paging as the VPC APIs do it: (slice, number, size)."""
    number = page_number or 1
    size = page_size or default_size
    if number < 1 or size < 1 or size > max_size:
        raise ApiError("InvalidParameter", f"PageNumber must be >= 1 and PageSize between 1 and {max_size}.", 400)
    start = (number - 1) * size
    return items[start:start + size], number, size


def token_page(items: list, next_token: str | None, max_results: int | None, *, default_size: int = 20,
               max_size: int = 100) -> tuple[list, str]:
    """NextToken/MaxResults paging: the token is the offset, as an opaque string."""
    size = max_results or default_size
    if size < 1 or size > max_size:
        raise ApiError("InvalidParameter.MaxResults", f"MaxResults must be between 1 and {max_size}.", 400)
    try:
        start = int(next_token) if next_token else 0
    except ValueError:
        raise ApiError("InvalidParameter.NextToken", "The specified NextToken is not valid.", 400) from None
    chunk = items[start:start + size]
    return chunk, (str(start + size) if start + size < len(items) else "")


class TagStore:
    """Tags per resource id: what acrx uses to mark what it owns."""

    MAX_TAGS = 20

    def __init__(self) -> None:
        self._tags: dict[str, dict[str, str]] = {}

    def of(self, resource_id: str) -> dict[str, str]:
        return dict(self._tags.get(resource_id, {}))

    def set(self, resource_id: str, tags: dict[str, str]) -> None:
        merged = {**self._tags.get(resource_id, {}), **tags}
        if len(merged) > self.MAX_TAGS:
            raise ApiError("QuotaExceed.TagNum", f"A resource has at most {self.MAX_TAGS} tags.", 400)
        for key in tags:
            if not key or key.startswith(("aliyun", "acs:")) or len(key) > 128:
                raise ApiError("InvalidTagKey", f"The tag key {key!r} is not valid.", 400)
        self._tags[resource_id] = merged

    def remove(self, resource_id: str, keys: list[str] | None = None) -> None:
        if keys is None:
            self._tags.pop(resource_id, None)
            return
        current = self._tags.get(resource_id, {})
        for key in keys:
            current.pop(key, None)

    def set_all(self, resource_ids: list[str], tags: dict[str, str], check: Callable[[str], object]) -> None:
        """TagResources: every id is checked before any is tagged (all or nothing)."""
        for resource_id in resource_ids:
            check(resource_id)
        for resource_id in resource_ids:
            self.set(resource_id, tags)

    def remove_all(self, resource_ids: list[str], keys: list[str] | None, check: Callable[[str], object]) -> None:
        """UntagResources: ids in order, each checked then untagged."""
        for resource_id in resource_ids:
            check(resource_id)
            self.remove(resource_id, keys)

    def listed(self, resource_id: str, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        """A resource's tags as the Describe* answers carry them: [{Key, Value}] sorted by key."""
        return [{key: k, value: v} for k, v in sorted(self.of(resource_id).items())]

    def rows(self, resource_ids: list[str], wanted: list[dict]) -> list[tuple[str, str, str]]:
        """ListTagResources: (id, key, value) of every tag of the ids whose tags match `wanted`."""
        return [(r, k, v) for r in resource_ids if self.matches(r, wanted) for k, v in sorted(self.of(r).items())]

    def matches(self, resource_id: str, wanted: list[dict]) -> bool:
        """A `Tag.N.Key/Value` filter: every wanted key present (and equal when a value is given)."""
        tags = self._tags.get(resource_id, {})
        for item in wanted:
            key = item.get("Key") if isinstance(item, dict) else None
            if key is None:
                continue
            if key not in tags or (item.get("Value") not in (None, "") and tags[key] != item.get("Value")):
                return False
        return True


def untag_keys(req) -> list[str] | None:
    """UntagResources' keys: None (every tag) with All=true, else the TagKey.N list."""
    return None if req.bool("All", default=False) else req.flat_list("TagKey")


def tag_pairs(items: list) -> dict[str, str]:
    """`Tag.N.Key` / `Tag.N.Value` flattened parameters as a dict."""
    tags = {}
    for item in items:
        if isinstance(item, dict) and item.get("Key"):
            tags[item["Key"]] = item.get("Value", "")
    return tags
