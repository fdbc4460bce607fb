"""Providers for the `oidc`, `ecs_ram_role` and `default` credential sources.

Why not the library's DefaultCredentialsProvider: alibabacloud_credentials reads its standard
variables (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ROLE_ARN, ..._OIDC_TOKEN_FILE, ALIBABA_CLOUD_PROFILE,
ALIBABA_CLOUD_CREDENTIALS_URI, HOME ...) once, when it is first imported (utils/auth_util.py), and
its OIDC link always sends the token to the real `sts.aliyuncs.com`. acrx walks the same chain in
the same order (provider/default.py: env keys, OIDC variables, CLI config file, credentials file,
ECS instance role, credentials URI) but reads the environment when the provider is built, and
hands every provider explicit arguments, so the snapshot never decides anything and the STS
endpoint is always acrx's (the sandbox's under --sandbox).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from acrx.cloud.errors import register_secret
from acrx.errors import UsageError

OIDC_VARS = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
KEY_VARS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
TOKEN_VAR = "ALIBABA_CLOUD_SECURITY_TOKEN"
ECS_DISABLED_VAR = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
DEFAULT_DURATION_S = 3600


def _http_options(connect_ms: int, read_ms: int):
    from alibabacloud_credentials.http import HttpOptions

    return HttpOptions(connect_timeout=connect_ms, read_timeout=read_ms)


def read_token_file(path: str, field: str) -> None:
    """Fail early, naming the field, when the token file cannot be read (the library would fail
    later with a bare OSError inside a credentials refresh)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise UsageError(f"cannot read the OIDC token file {path} ({exc.strerror or exc})", field=field,
                         hint="point it at the file your CI writes the job's OIDC token to") from None
    if not token:
        raise UsageError(f"the OIDC token file {path} is empty", field=field,
                         hint="write the CI job's OIDC token into it before running acrx")
    register_secret(token)


def oidc_provider(*, role_arn: str, provider_arn: str, token_file: str, session_name: str,
                  sts_endpoint: str, field: str, connect_ms: int, read_ms: int):
    """AssumeRoleWithOIDC with every argument explicit (none falls back to the import snapshot).
    The token file is re-read by the library at each refresh, as CI tokens rotate."""
    read_token_file(token_file, field)
    from alibabacloud_credentials.provider import OIDCRoleArnCredentialsProvider

    return OIDCRoleArnCredentialsProvider(
        role_arn=role_arn, oidc_provider_arn=provider_arn, oidc_token_file_path=os.path.expanduser(token_file),
        role_session_name=session_name, duration_seconds=DEFAULT_DURATION_S, sts_endpoint=sts_endpoint,
        http_options=_http_options(connect_ms, read_ms))


def ecs_provider(role_name: str | None, field: str, environ: Mapping[str, str]):
    if str(environ.get(ECS_DISABLED_VAR, "")).lower() == "true":
        raise UsageError(f"{ECS_DISABLED_VAR}=true in the environment switches the ECS instance metadata off",
                         field=field, hint=f"unset {ECS_DISABLED_VAR} or choose another credential source")
    from alibabacloud_credentials.provider import EcsRamRoleCredentialsProvider

    try:
        # No background refresh thread: acrx runs for minutes, a synchronous refresh is enough.
        return EcsRamRoleCredentialsProvider(role_name=role_name, async_update_enabled=False)
    except ValueError as exc:  # the library consults its import-time copy of the variable too
        raise UsageError(f"the ECS instance role cannot be used: {exc}", field=field,
                         hint=f"unset {ECS_DISABLED_VAR} before starting acrx, or choose another source") from None


def static_provider(access_key_id: str, access_key_secret: str, token: str | None):
    register_secret(access_key_secret)
    register_secret(token)
    if token:
        from alibabacloud_credentials.provider import StaticSTSCredentialsProvider

        return StaticSTSCredentialsProvider(access_key_id=access_key_id, access_key_secret=access_key_secret,
                                            security_token=token)
    from alibabacloud_credentials.provider import StaticAKCredentialsProvider

    return StaticAKCredentialsProvider(access_key_id=access_key_id, access_key_secret=access_key_secret)


class ChainProvider:
    """The rest of the default chain (files, ECS, URI): the first link that yields credentials is
    kept, as the library's own chain does; the error lists every link tried (never a value)."""

    def __init__(self, links: list[tuple[str, Callable[[], Any]]]):
        self._links = links
        self._chosen = None  # the provider that answered first, reused (it caches and refreshes)

    def get_credentials(self):
        if self._chosen is not None:
            return self._chosen.get_credentials()
        errors = []
        for name, build in self._links:
            try:
                provider = build()
                creds = provider.get_credentials()
            except Exception as exc:  # a link that does not apply here
                errors.append(f"{name}: {type(exc).__name__}")
                continue
            if creds is not None:
                self._chosen = provider
                return creds
        from alibabacloud_credentials.exceptions import CredentialException

        raise CredentialException("no link of the default credentials chain gave credentials "
                                  f"({'; '.join(errors) or 'none configured'})")

    async def get_credentials_async(self):
        return self.get_credentials()

    def get_provider_name(self) -> str:
        return "default"


def default_provider(*, environ: Mapping[str, str], sandbox: bool, sts_endpoint: str, field: str,
                     connect_ms: int, read_ms: int, lookup: Callable[[str], str | None]):
    """The default chain, as of now's environment. Under --sandbox only the links that can be
    pointed at the sandbox are taken (keys from the environment, the OIDC variables through the
    sandbox's STS); anything else would send real credentials, or reach the real cloud."""
    ak, sk = (lookup(name) for name in KEY_VARS)
    if ak and sk:
        return static_provider(ak, sk, lookup(TOKEN_VAR))
    role_arn, provider_arn, token_file = (environ.get(name) for name in OIDC_VARS)
    if role_arn and provider_arn and token_file:
        return oidc_provider(role_arn=role_arn, provider_arn=provider_arn, token_file=token_file,
                             session_name=environ.get("ALIBABA_CLOUD_ROLE_SESSION_NAME") or "acrx",
                             sts_endpoint=sts_endpoint, field=field, connect_ms=connect_ms, read_ms=read_ms)
    if sandbox:
        raise UsageError("under --sandbox the default chain may only resolve to environment keys "
                         f"({'/'.join(KEY_VARS)}) or the OIDC variables ({', '.join(OIDC_VARS)}); neither is set, "
                         "and the other links (CLI config, credentials file, ECS role, credentials URI) "
                         "cannot be pointed at the sandbox", field=field,
                         hint="set one of them, or use the env source that `acrx sandbox up` writes")
    return ChainProvider(_rest_of_chain(environ, connect_ms, read_ms))


def _rest_of_chain(environ: Mapping[str, str], connect_ms: int, read_ms: int) -> list[tuple[str, Callable[[], Any]]]:
    from alibabacloud_credentials import provider as p

    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    profile = environ.get("ALIBABA_CLOUD_PROFILE")
    links: list[tuple[str, Callable[[], Any]]] = []
    cli_file = home / ".aliyun" / "config.json"
    if str(environ.get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")).lower() != "true" and cli_file.is_file():
        links.append(("cli config", lambda: p.CLIProfileCredentialsProvider(
            profile_name=profile, profile_file=str(cli_file))))
    ini = Path(environ.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or home / ".alibabacloud" / "credentials.ini")
    if ini.is_file():
        links.append(("credentials file", lambda: p.ProfileCredentialsProvider(
            profile_file=str(ini), profile_name=profile or "default")))
    if str(environ.get(ECS_DISABLED_VAR, "")).lower() != "true":
        links.append(("ecs instance role", lambda: p.EcsRamRoleCredentialsProvider(
            role_name=environ.get("ALIBABA_CLOUD_ECS_METADATA") or None, async_update_enabled=False)))
    uri = environ.get("ALIBABA_CLOUD_CREDENTIALS_URI")
    if uri:
        links.append(("credentials uri", lambda: p.URLCredentialsProvider(
            uri=uri, http_options=_http_options(connect_ms, read_ms))))
    return links
