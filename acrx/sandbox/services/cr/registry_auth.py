"""The sandbox cloud's side of the registry's token auth (the RegistryAuth protocol of
acrx.sandbox.registry.server): who may log in with which temporary credential, and pull what.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from acrx.sandbox.core.identity import Principal
from acrx.sandbox.core.policy import ALLOW
from acrx.sandbox.services.cr import models, tokens


@dataclass(frozen=True)
class RegistrySession:
    principal: Principal
    instance_id: str
    region: str
    owner: str
    expires_at: float   # epoch seconds on the world clock; registry tokens never outlive it


class CrRegistryAuth:
    def __init__(self, world):
        self.world = world

    def login(self, username: str, password: str) -> RegistrySession | None:
        if not hmac.compare_digest(username or "", tokens.TEMP_USERNAME) or not password:
            return None
        with self.world.lock:
            temp = tokens.lookup(self.world, password)
            if temp is None or not tokens.still_valid(self.world, temp):
                return None
            return RegistrySession(temp.principal, temp.instance_id, temp.region, temp.owner, temp.expires_at)

    def can_pull(self, session: RegistrySession, instance_id: str, namespace: str, repo: str) -> bool:
        # A credential is only good on the instance it was issued for.
        if session is None or session.instance_id != instance_id:
            return False
        resource = f"acs:cr:{session.region}:{session.owner}:repository/{instance_id}/{namespace}/{repo}"
        with self.world.lock:
            return self.world.decide(session.principal, "cr:PullRepository", resource) == ALLOW

    def instance_for_host(self, host: str) -> str | None:
        host = (host or "").lower()
        with self.world.lock:
            for backend in self.world.backends("cr"):
                for instance in backend.instances.values():
                    if host in (instance.public_domain, instance.vpc_domain):
                        return instance.instance_id
        return None

    def region_for_instance(self, instance_id: str) -> str:
        with self.world.lock:
            instance = models.find_instance(self.world, instance_id)
        if instance is None:
            raise KeyError(instance_id)
        return instance.region
