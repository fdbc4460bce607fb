"""The host each product's API answers on, per region, pinned here rather than left to the SDKs.

The SDKs' own rule maps RAM to `ram.aliyuncs.com` only for the ~22 regions in their map and falls
back to `ram.<region>.aliyuncs.com` elsewhere (cn-heyuan, cn-wulanchabu, ap-southeast-6,
ap-northeast-2 ...), a host the official RAM endpoint table does not list; PrivateZone falls back
the same way. Global services therefore get their one global host; regional services get
`<product>.<region>.aliyuncs.com`; CBN and VpcPeer are central (the SDKs' `central` rule).
"""

from __future__ import annotations

# Global services: one host for every region.
GLOBAL_HOSTS = {
    # Official RAM endpoint table (help.aliyun.com/document_detail/2337625.html) lists only this
    # host; the Terraform provider pins it (alicloud/connectivity/endpoint.go:333).
    "ram": "ram.aliyuncs.com",
    # Terraform provider pins it (alicloud/connectivity/endpoint.go:417); the SDK maps 14 regions to
    # it. [?] regional pvtz hosts exist for some regions (an old Go SDK map); the global host is
    # the one every source agrees on.
    "pvtz": "pvtz.aliyuncs.com",
    # The SDKs' `central` endpoint rule (alibabacloud_cbn20170912 / alibabacloud_vpcpeer20220101).
    "cbn": "cbn.aliyuncs.com",
    "vpcpeer": "vpcpeer.aliyuncs.com",
}

# Regional services: `<product>.<region>.aliyuncs.com`.
# STS: the official STS endpoint table lists regional hosts (real-cloud-audit §2); ack-ram-tool
#   uses sts.<region>.aliyuncs.com. CS: cs.<region>.aliyuncs.com (ack-ram-tool, SDK doc).
# CR: the SDK has no map and its rule gives cr.<region>.aliyuncs.com. VPC: vpc.<region>.aliyuncs.com
#   ([?] the SDK maps cn-hangzhou and a few internal regions to vpc.aliyuncs.com; both names serve
#   the public regions, the regional one is the stricter choice: it names the region it acts in).
REGIONAL_PRODUCTS = ("sts", "cs", "cr", "vpc")


def endpoint(product: str, region: str) -> str:
    """The API host of `product` for a client acting in `region`."""
    if product in GLOBAL_HOSTS:
        return GLOBAL_HOSTS[product]
    if product in REGIONAL_PRODUCTS:
        return f"{product}.{region}.aliyuncs.com"
    raise KeyError(f"no endpoint rule for product {product!r}")
