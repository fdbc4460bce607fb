"""Layer 3, the pull: an nginx Deployment really pulls `verify.image` in the cluster; and for
`acrx doctor`, the registry probe that stands in for it without touching the cluster.

The image is `verify.image`, else the documented `<domain>/<namespace>/<repository>:<tag>`
form: the VPC domain (public domain in public network mode), and a repository and tag found
through CR ListRepository/ListRepoTag, preferring one named nginx.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx import facts
from acrx.doctor.explain import FIX_POLICY, FIX_ROLES, explain, explain_pull
from acrx.doctor.layers import Check, failed, passed, skipped
from acrx.errors import AcrxError, CloudError
from acrx.kube.errors import KubeError

PREFERRED_REPOSITORY = "nginx"
PREFERRED_TAGS = ("latest", "stable")
PROBE_SESSION = "acrx-doctor"


@dataclass(frozen=True)
class ImageChoice:
    domain: str
    repository: str      # <namespace>/<repo>
    reference: str       # tag or digest
    discovered: bool     # False: from verify.image

    @property
    def image(self) -> str:
        sep = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.domain}/{self.repository}{sep}{self.reference}"


def parse_image(image: str) -> ImageChoice:
    domain, _, rest = image.partition("/")
    if "@" in rest:
        repository, _, reference = rest.partition("@")
    elif ":" in rest.rsplit("/", 1)[-1]:
        repository, _, reference = rest.rpartition(":")
    else:
        repository, reference = rest, "latest"
    return ImageChoice(domain.lower(), repository, reference, discovered=False)


def _default_domain(run, cr, registry) -> str:
    vpc = run.config.network.mode != "public"
    for domain in registry.domains:
        if ("-registry-vpc." in domain) == vpc:
            return domain
    name = registry.instance_name
    if not name:
        instance = cr.get_instance(registry.instance_id)
        if instance is None:
            raise AcrxError(f"instance {registry.instance_id} does not exist in {registry.region}")
        name = instance.name
    return (facts.registry_vpc_domain if vpc else facts.registry_domain)(name, registry.region)


def resolve_image(run) -> ImageChoice:
    """The image verify pulls (memoised per run)."""
    if "image" in run.memo:
        return run.memo["image"]
    config = run.config
    if config.verify.image:
        choice = parse_image(config.verify.image)
    else:
        registry = config.registries[0]
        cr = run.ctx.session.account(registry.account).cr_api(registry.region)
        domain = _default_domain(run, cr, registry)
        repos = cr.list_repositories(registry.instance_id)
        if not repos:
            raise AcrxError(f"instance {registry.instance_id} holds no repository to pull",
                            hint="push an image (nginx) or set verify.image")
        repos.sort(key=lambda r: (PREFERRED_REPOSITORY not in r.name.lower(), r.namespace, r.name))
        repo = repos[0]
        tags = [t.tag for t in cr.list_repo_tags(registry.instance_id, repo.id) if t.tag]
        if not tags:
            raise AcrxError(f"repository {repo.namespace}/{repo.name} has no tag", hint="set verify.image")
        tag = next((t for t in PREFERRED_TAGS if t in tags), tags[0])
        choice = ImageChoice(domain, f"{repo.namespace}/{repo.name}", tag, discovered=True)
    run.memo["image"] = choice
    return choice


# -- layer 3 ------------------------------------------------------------------------------------
def check_pull(run):
    """(checks, PullOutcome or None): create the Deployment, watch its pod, clean up."""
    from acrx.doctor.component import helper_last_error
    from acrx.kube import workloads

    config = run.config
    try:
        choice = resolve_image(run)
    except CloudError as exc:
        return [failed("image", f"could not discover an image to pull: {exc}")], None
    ns, sa = config.verify.namespace, config.verify.service_account
    manifest = workloads.verify_deployment(choice.image, namespace=ns, service_account=sa)
    checks: list[Check] = [passed("image", choice.image + (" (discovered)" if choice.discovered else ""))]
    run.say(f"pull: creating deployment {ns}/{workloads.VERIFY_NAME} with {choice.image}")
    try:
        kube = run.ctx.kube()
        workloads.create_deployment(kube, manifest)
        try:
            outcome = workloads.wait_for_pull(kube, ns, choice.image, label_selector=workloads.selector_of(),
                                              timeout_s=run.timeout_s, poll_s=run.poll_s,
                                              on_progress=lambda m: run.say(f"pull: {m}"))
        finally:
            if not run.keep:
                workloads.delete_deployment(kube, ns)
    except KubeError as exc:
        checks.append(failed(f"deployment {ns}/{workloads.VERIFY_NAME}", str(exc)))
        return checks, None
    title = f"pull {choice.image}"
    if outcome.ok:
        checks.append(passed(title, outcome.message))
        return checks, outcome
    if outcome.status == "timeout":
        checks.append(failed(title, outcome.message))
        return checks, outcome
    helper_error = None
    try:
        helper_error = helper_last_error(run)
    except AcrxError:
        pass
    why = explain_pull(outcome.message, helper_error)
    detail = f"{outcome.waiting_reason}: {outcome.message}"
    if why is None:
        checks.append(failed(title, detail))
    else:
        checks.append(failed(title, detail, cause=why.cause, fix_command=run.fix(why.fix_command)))
    return checks, outcome


# -- acrx doctor: the registry probe ------------------------------------------------------------
def _helper_like_key(run, registry) -> tuple[tuple[str, str, str | None] | None, str]:
    """Credentials as the helper would hold them, or (None, why not)."""
    import os

    config, session = run.config, run.ctx.session
    if config.mode == "access-key":
        names = config.addon.access_key
        ak, sk = os.environ.get(names.access_key_id_env), os.environ.get(names.access_key_secret_env)
        if ak and sk:
            return (ak, sk, None), f"the registry AccessKey from ${names.access_key_id_env}"
        return None, f"${names.access_key_id_env}/${names.access_key_secret_env} are not set"
    role_arn = facts.role_arn(run.ctx.uid(registry.account), config.registry_role_name)
    try:
        creds = session.account(config.cluster.account).sts_api.assume_role(role_arn, PROBE_SESSION, 900)
    except CloudError as exc:
        return None, (f"acrx's identity in the cluster account may not assume {role_arn} "
                      f"({exc.code}); only the helper's chain may, and layer 2 checks its Secret")
    return creds.as_tuple(), f"an STS session of {config.registry_role_name}"


def check_registry_probe(run) -> list[Check]:
    from acrx.cloud.registry import RegistryProbeError, probe_image

    config = run.config
    registry = config.registries[0]
    try:
        choice = resolve_image(run)
    except CloudError as exc:
        return [failed("image", f"could not discover an image to probe: {exc}")]
    key, source = _helper_like_key(run, registry)
    title = f"probe {choice.image}"
    if key is None:
        # Knowing the image is not a probe: with no key the layer is SKIP, never PASS.
        return [skipped(title, source)]
    checks = [passed("image", choice.image), passed("credentials", source)]
    try:
        login = run.ctx.session.cr_api_with_key(registry.region, key).get_authorization_token(registry.instance_id)
    except CloudError as exc:
        why = explain(f"GetAuthorizationToken: {exc.code}: {exc.cloud_message}")
        fix = why.fix_command if why else FIX_POLICY
        checks.append(failed("GetAuthorizationToken", str(exc), cause=why.cause if why else None,
                             fix_command=run.fix(fix)))
        return checks
    sandbox = run.ctx.session.sandbox
    connect_to = sandbox.registry_endpoint if sandbox is not None else None
    try:
        probe = probe_image(choice.domain, choice.repository, choice.reference, login.username,
                            login.password.reveal(), connect_to=connect_to, timeout=min(run.timeout_s, 30))
    except RegistryProbeError as exc:
        why = explain(exc.message)
        # From acrx's machine, not a node: DNS and routes are the local ones, so a network
        # failure here says little about the cluster's path.
        note = " (probed from this machine, not from a node)" if exc.kind in ("dns", "connect", "timeout") else ""
        checks.append(failed(title, exc.message + note, cause=why.cause if why else None,
                             fix_command=run.fix(why.fix_command if why else FIX_ROLES)))
        return checks
    checks.append(passed(title, f"manifest {probe.digest}, image size {probe.size} bytes"))
    return checks
