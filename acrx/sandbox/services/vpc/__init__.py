"""Sandbox VPC (2016-04-28): VPCs, vSwitches, route tables, NAT, SNAT and EIPs."""
