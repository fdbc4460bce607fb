"""Sandbox PrivateZone (2018-01-01) through the official alibabacloud_pvtz20180101 client over HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error as _error
from tests.sandbox_cloud import serving, two_accounts

HZ = "cn-hangzhou"
DOMAIN = "reg-registry-vpc.cn-hangzhou.cr.aliyuncs.com"


@pytest.fixture
def cloud():
    world, a, b = two_accounts(11, HZ)
    vpc_a = world.backend("vpc", a.uid, HZ).seed_vpc("192.168.0.0/16")
    vpc_b = world.backend("vpc", b.uid, HZ).seed_vpc("10.0.0.0/16")
    with serving(world) as server:
        yield dict(world=world, a=a, b=b, vpc_a=vpc_a, vpc_b=vpc_b, server=server)


def _pvtz(cloud, account):
    return sdk_client("alibabacloud_pvtz20180101", cloud["server"].endpoint, account.root_key)


def _bind(client, zone_id, *vpcs):
    from alibabacloud_pvtz20180101 import models as m

    client.bind_zone_vpc(m.BindZoneVpcRequest(zone_id=zone_id, vpcs=[
        m.BindZoneVpcRequestVpcs(region_id=HZ, vpc_id=v.vpc_id) for v in vpcs]))


def test_zone_lifecycle_records_and_binding(cloud):
    from alibabacloud_pvtz20180101 import models as m

    client = _pvtz(cloud, cloud["a"])
    added = client.add_zone(m.AddZoneRequest(zone_name=DOMAIN, proxy_pattern="ZONE")).body
    assert added.zone_name == DOMAIN and added.success
    zone_id = added.zone_id
    record_id = client.add_zone_record(m.AddZoneRecordRequest(zone_id=zone_id, rr="@", type="A",
                                                              value="10.0.1.10", ttl=60)).body.record_id
    records = client.describe_zone_records(m.DescribeZoneRecordsRequest(zone_id=zone_id)).body
    assert [(r.record_id, r.rr, r.type, r.value, r.ttl) for r in records.records.record] == [
        (record_id, "@", "A", "10.0.1.10", 60)]
    _bind(client, zone_id, cloud["vpc_a"])
    info = client.describe_zone_info(m.DescribeZoneInfoRequest(zone_id=zone_id)).body
    assert [(v.vpc_id, v.region_id, v.vpc_user_id) for v in info.bind_vpcs.vpc] == [
        (cloud["vpc_a"].vpc_id, HZ, int(cloud["a"].uid))]
    assert info.record_count == 1
    by_vpc = client.describe_zones(m.DescribeZonesRequest(query_vpc_id=cloud["vpc_a"].vpc_id)).body
    assert [z.zone_id for z in by_vpc.zones.zone] == [zone_id]
    by_keyword = client.describe_zones(m.DescribeZonesRequest(keyword="registry-vpc")).body
    assert by_keyword.total_items == 1
    assert client.describe_zones(m.DescribeZonesRequest(keyword="nothing-like-it")).body.total_items == 0

    err = _error(lambda: client.delete_zone(m.DeleteZoneRequest(zone_id=zone_id)))
    assert (err.code, err.status_code) == ("Zone.VpcExists", 400)
    _bind(client, zone_id)                                   # the complete list: empty unbinds all
    client.delete_zone_record(m.DeleteZoneRecordRequest(record_id=record_id))
    assert client.describe_zone_records(m.DescribeZoneRecordsRequest(zone_id=zone_id)).body.total_items == 0
    client.delete_zone(m.DeleteZoneRequest(zone_id=zone_id))
    err = _error(lambda: client.describe_zone_info(m.DescribeZoneInfoRequest(zone_id=zone_id)))
    assert err.code == "Zone.Invalid.Id"


def test_zone_name_and_duplicate_rules(cloud):
    from alibabacloud_pvtz20180101 import models as m

    client = _pvtz(cloud, cloud["a"])
    for bad in ("nodots", "-bad.example.com", "a..b.com", "x" * 64 + ".com"):
        err = _error(lambda: client.add_zone(m.AddZoneRequest(zone_name=bad)))
        assert (err.code, err.status_code) == ("Zone.Invalid.Name", 400)
    client.add_zone(m.AddZoneRequest(zone_name=DOMAIN))
    err = _error(lambda: client.add_zone(m.AddZoneRequest(zone_name=DOMAIN.upper())))
    assert err.code == "Zone.AlreadyExists"
    # another account may hold a zone of the same name
    assert _pvtz(cloud, cloud["b"]).add_zone(m.AddZoneRequest(zone_name=DOMAIN)).body.zone_id


def test_record_rules(cloud):
    from alibabacloud_pvtz20180101 import models as m

    client = _pvtz(cloud, cloud["a"])
    zone_id = client.add_zone(m.AddZoneRequest(zone_name="example.internal")).body.zone_id

    def add(rr, rtype, value):
        return client.add_zone_record(m.AddZoneRecordRequest(zone_id=zone_id, rr=rr, type=rtype, value=value))

    add("www", "A", "10.0.0.1")
    assert (lambda e: (e.code, e.status_code))(_error(lambda: add("www", "A", "10.0.0.1"))) == ("Record.Invalid.Conflict", 400)
    assert _error(lambda: add("www", "CNAME", "other.example.internal")).code == "Record.Invalid.Conflict"
    assert _error(lambda: add("api", "A", "not-an-ip")).code == "Record.Invalid.Value"
    assert _error(lambda: add("api", "NS", "ns.example")).code == "Record.Invalid.Type"
    assert _error(lambda: add("bad name", "A", "10.0.0.2")).code == "Record.Invalid.Rr"
    add("www", "A", "10.0.0.2")                              # a second address for the same name is fine
    err = _error(lambda: client.add_zone_record(m.AddZoneRecordRequest(zone_id="nope", rr="a", type="A", value="1.1.1.1")))
    assert err.code == "Zone.Invalid.Id"


def test_binding_rules(cloud):
    from alibabacloud_pvtz20180101 import models as m

    client_a = _pvtz(cloud, cloud["a"])
    zone_a = client_a.add_zone(m.AddZoneRequest(zone_name=DOMAIN)).body.zone_id
    err = _error(lambda: _bind(client_a, zone_a, cloud["vpc_b"]))     # B's VPC: no cross-account binding
    assert (err.code, err.status_code) == ("ZoneVpc.NotAuthorized.VpcId", 400)
    err = _error(lambda: client_a.bind_zone_vpc(m.BindZoneVpcRequest(zone_id=zone_a, vpcs=[
        m.BindZoneVpcRequestVpcs(region_id=HZ, vpc_id="vpc-doesnotexist")])))
    assert err.code == "ZoneVpc.NotExists.VpcId"
    # B binds its own zone, and a zone of another name, to its own VPC
    client_b = _pvtz(cloud, cloud["b"])
    zone_b1 = client_b.add_zone(m.AddZoneRequest(zone_name=DOMAIN)).body.zone_id
    _bind(client_b, zone_b1, cloud["vpc_b"])
    other = client_b.add_zone(m.AddZoneRequest(zone_name="sub." + DOMAIN)).body.zone_id
    _bind(client_b, other, cloud["vpc_b"])
    bound = client_b.describe_zones(m.DescribeZonesRequest(query_vpc_id=cloud["vpc_b"].vpc_id)).body
    assert {z.zone_id for z in bound.zones.zone} == {zone_b1, other}


def test_same_name_zone_bound_twice_is_repeated(cloud):
    """Two zones of one name reach the same VPC only across accounts (ours refuses duplicates)."""
    from alibabacloud_pvtz20180101 import models as m

    world = cloud["world"]
    client_a = _pvtz(cloud, cloud["a"])
    first = client_a.add_zone(m.AddZoneRequest(zone_name=DOMAIN)).body.zone_id
    _bind(client_a, first, cloud["vpc_a"])
    # Seed a second zone of the same name, as ACR's "create DNS records in PrivateZone" option
    # does through its service-linked role (AddZone itself refuses a duplicate name).
    second = client_a.add_zone(m.AddZoneRequest(zone_name="x." + DOMAIN)).body.zone_id
    world.backend("pvtz", cloud["a"].uid, None).zones[second].name = DOMAIN
    err = _error(lambda: _bind(client_a, second, cloud["vpc_a"]))
    assert (err.code, err.status_code) == ("ZoneVpc.Zone.Repeated", 400)


def test_zone_tags(cloud):
    from alibabacloud_pvtz20180101 import models as m

    client = _pvtz(cloud, cloud["a"])
    zone_id = client.add_zone(m.AddZoneRequest(zone_name=DOMAIN)).body.zone_id
    client.tag_resources(m.TagResourcesRequest(resource_type="ZONE", resource_id=[zone_id],
                                               tag=[m.TagResourcesRequestTag(key="acrx:owned", value="true")]))
    rows = client.list_tag_resources(m.ListTagResourcesRequest(resource_type="ZONE", resource_id=[zone_id])).body
    assert [(r.resource_id, r.tag_key, r.tag_value) for r in rows.tag_resources] == [(zone_id, "acrx:owned", "true")]
    zones = client.describe_zones(m.DescribeZonesRequest()).body.zones.zone
    assert [(t.key, t.value) for t in zones[0].resource_tags.resource_tag] == [("acrx:owned", "true")]
