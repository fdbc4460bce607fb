"""Sandbox CBN (2017-09-12): CEN instances, transit routers, grants and attachments."""
