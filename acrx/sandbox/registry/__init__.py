"""The sandbox container registry: seeded images and a v2 endpoint with Bearer token auth."""
