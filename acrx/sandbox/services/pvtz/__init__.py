"""Sandbox PrivateZone (2018-01-01): zones, records and VPC bindings."""
