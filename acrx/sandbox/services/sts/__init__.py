"""Sandbox STS (2015-04-01): AssumeRole, AssumeRoleWithOIDC and GetCallerIdentity."""
