"""Sandbox CR (Container Registry Enterprise Edition), API version 2018-12-01, RPC.

`models.Backend` seeds instances, VPC links, namespaces and repositories;
`models.vpc_endpoint_records(world)` lists VPC endpoint addresses for the network path;
`registry_auth.CrRegistryAuth(world)` is what the sandbox registry server authenticates with.
"""
