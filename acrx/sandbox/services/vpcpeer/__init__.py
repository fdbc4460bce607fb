"""Sandbox VpcPeer (2022-01-01): VPC peering connections across accounts and regions."""
