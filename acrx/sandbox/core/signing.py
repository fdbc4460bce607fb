"""Signature checks for the two schemes the official clients use.

ACS3-HMAC-SHA256 is the default of every current SDK (RPC and ROA). HMAC-SHA1 v1 is what the
credentials library's own AssumeRole and the legacy aliyun-python-sdk-core send; ROA v1
("acs AK:signature") is what `signature_algorithm='v2'` sends for CS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

ACS3 = "ACS3-HMAC-SHA256"


def _pct(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def parse_acs3_authorization(header: str) -> dict[str, str] | None:
    if not header.startswith(ACS3 + " "):
        return None
    parts = {}
    for item in header[len(ACS3) + 1:].split(","):
        key, _, value = item.strip().partition("=")
        parts[key] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts


def acs3_signature(secret: str, method: str, raw_path: str, query: dict[str, str],
                   headers: dict[str, str], signed_headers: str, payload_hash: str) -> str:
    canonical_query = "&".join(f"{_pct(k)}={_pct(query[k])}" for k in sorted(query))
    names = signed_headers.split(";")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    canonical_request = "\n".join([method, raw_path or "/", canonical_query, canonical_headers,
                                   signed_headers, payload_hash])
    string_to_sign = f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def rpc_v1_string_to_sign(method: str, params: dict[str, str]) -> str:
    """Params are every query and form field except Signature itself."""
    canonical = "&".join(f"{_pct(k)}={_pct(params[k])}" for k in sorted(params))
    return f"{method}&{_pct('/')}&{_pct(canonical)}"


def rpc_v1_signature(secret: str, method: str, params: dict[str, str]) -> str:
    string_to_sign = rpc_v1_string_to_sign(method, params)
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def roa_v1_signature(secret: str, method: str, raw_path: str, query: dict[str, str],
                     headers: dict[str, str]) -> str:
    head = "\n".join([method, headers.get("accept", ""), headers.get("content-md5", ""),
                      headers.get("content-type", ""), headers.get("date", "")]) + "\n"
    canon_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(h for h in headers if h.startswith("x-acs-")))
    resource = raw_path
    if query:
        resource += "?" + "&".join(k if query[k] == "" else f"{k}={query[k]}" for k in sorted(query))
    digest = hmac.new(secret.encode(), (head + canon_headers + resource).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
