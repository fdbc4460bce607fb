"""Sandbox RAM (2015-05-01): roles, policies, users, AccessKeys, tags and OIDC providers."""
