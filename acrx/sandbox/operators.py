"""`acrx sandbox up --operators`: operator identities in both sandbox accounts, holding exactly the
policies they are handed.

Per account alias (cluster, registry):
- a "ci" OIDC issuer (one signing key for the whole sandbox, as one CI system serves every
  account) registered as the OIDC provider `acrx-ci`, and the role `acrx-ci-readonly` trusting it
  (Principal Federated + StringEquals on oidc:iss, oidc:aud and oidc:sub, the shape RAM documents
  for OIDC role SSO) with the read-only policy attached;
- the RAM user `acrx-operator` with the full policy attached, and one AccessKey.
And a token file, as a CI runner writes the job's token.

The policy documents are plain data passed in (the sandbox never imports acrx's core: the CLI
renders them and sends them here). A document larger than RAM's 6144-byte limit is split by
statement into several policies, as a RAM admin would have to.
"""

from __future__ import annotations

import json
import os

from pathlib import Path

from acrx.sandbox.core.oidc import SigningKey

CI_ISSUER = "https://ci.sandbox.acrx.invalid"   # .invalid: never a real host (RFC 2606)
CI_AUDIENCE = "sts.aliyuncs.com"                 # what RAM documents as the usual client id
CI_SUBJECT = "repo:acme/platform:ref:refs/heads/main"  # a GitHub-Actions-shaped subject
CI_PROVIDER = "acrx-ci"
CI_ROLE = "acrx-ci-readonly"
OPERATOR_USER = "acrx-operator"
TOKEN_FILE, CI_CONFIG, OPERATOR_CONFIG = "ci-token", "acrx-ci.yaml", "acrx-operator.yaml"
TOKEN_LIFETIME_S = 24 * 3600
POLICY_LIMIT = 6144


def _chunks(document: dict) -> list[str]:
    """The document as one or more compact policy texts, each within RAM's size limit."""
    statements = document["Statement"]
    out, current = [], []
    for st in statements:
        trial = json.dumps({"Version": "1", "Statement": current + [st]}, separators=(",", ":"))
        if current and len(trial) > POLICY_LIMIT:
            out.append(json.dumps({"Version": "1", "Statement": current}, separators=(",", ":")))
            current = [st]
        else:
            current.append(st)
    out.append(json.dumps({"Version": "1", "Statement": current}, separators=(",", ":")))
    return out


def _attach(ram, holder, kind: str, base: str, document: dict) -> list[str]:
    names = []
    for index, text in enumerate(_chunks(document)):
        name = base if index == 0 else f"{base}-{index + 1}"
        ram.create_policy(name, text, "operator policy rendered by acrx render operator-policy")
        ram.attach(holder, kind, "Custom", name)
        names.append(name)
    return names


def ci_token(key: SigningKey, now: float) -> str:
    return key.sign({"iss": CI_ISSUER, "aud": CI_AUDIENCE, "sub": CI_SUBJECT, "iat": int(now),
                     "nbf": int(now) - 60, "exp": int(now) + TOKEN_LIFETIME_S})


def seed_operators(world, policies: dict[str, dict[str, dict]]) -> dict:
    """policies: {alias: {"read_only": document, "full": document}}. Returns what the files need
    (secrets included: the caller writes them to 0600 files only)."""
    key = SigningKey()
    with world.lock:
        world.oidc.publish(CI_ISSUER, key)
        now = world.clock.now()
        out: dict = {"issuer": CI_ISSUER, "token": ci_token(key, now), "accounts": {}}
        for alias, docs in policies.items():
            account = world.account_by_alias(alias)
            ram = world.backend("ram", account.uid, "global")
            provider = ram.create_oidc_provider(CI_PROVIDER, CI_ISSUER, [CI_AUDIENCE], "CI issuer (acrx sandbox)")
            trust = {"Version": "1", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Federated": [provider.arn]},
                "Condition": {"StringEquals": {"oidc:iss": CI_ISSUER, "oidc:aud": CI_AUDIENCE,
                                               "oidc:sub": CI_SUBJECT}}}]}
            role = ram.create_role(CI_ROLE, json.dumps(trust), "CI: acrx plan/verify/doctor")
            read_only = _attach(ram, role, "Role", "acrx-operator-readonly", docs["read_only"])
            user = ram.create_user(OPERATOR_USER, comments="runs acrx setup/destroy")
            full = _attach(ram, user, "User", "acrx-operator-full", docs["full"])
            access_key = ram.create_access_key(OPERATOR_USER)
            out["accounts"][alias] = {
                "uid": account.uid, "provider_arn": provider.arn, "role_arn": role.arn,
                "user": OPERATOR_USER, "access_key_id": access_key.access_key_id,
                "access_key_secret": access_key.secret,
                "policies": {"read_only": read_only, "full": full}}
    return out


def key_vars(alias: str) -> tuple[str, str]:
    prefix = f"ACRX_SANDBOX_{alias.upper().replace('-', '_')}_OPERATOR"
    return f"{prefix}_ACCESS_KEY_ID", f"{prefix}_ACCESS_KEY_SECRET"


def _write_private(path: Path, text: str, append: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
    with os.fdopen(fd, "a" if append else "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_operator_files(state_dir: Path, base_config: dict, seeded: dict) -> dict[str, Path]:
    """DIR/ci-token, DIR/acrx-ci.yaml (oidc sources), DIR/acrx-operator.yaml (the users' keys, by
    variable name; the values are appended to the 0600 sandbox.env the --sandbox flag reads)."""
    import yaml

    state_dir = Path(state_dir)
    token_path = (state_dir / TOKEN_FILE).resolve()
    _write_private(token_path, seeded["token"])
    ci, operator = json.loads(json.dumps(base_config)), json.loads(json.dumps(base_config))
    env_lines = []
    for alias, acct in seeded["accounts"].items():
        ci["accounts"][alias] = {"uid": acct["uid"], "oidc": {
            "role_arn": acct["role_arn"], "provider_arn": acct["provider_arn"], "token_file": str(token_path)}}
        id_var, secret_var = key_vars(alias)
        operator["accounts"][alias] = {"uid": acct["uid"], "env": {"access_key_id": id_var,
                                                                   "access_key_secret": secret_var}}
        env_lines += [f"export {id_var}={acct['access_key_id']}\n",
                      f"export {secret_var}={acct['access_key_secret']}\n"]
    _write_private(state_dir / "sandbox.env", "".join(env_lines), append=True)
    paths = {"token": token_path, "ci": state_dir / CI_CONFIG, "operator": state_dir / OPERATOR_CONFIG}
    paths["ci"].write_text("# acrx.yaml for CI: oidc sources, read-only operator roles (plan, verify, doctor)\n"
                           + yaml.safe_dump(ci, sort_keys=False))
    paths["operator"].write_text("# acrx.yaml for an operator: RAM users holding the full operator policy "
                                 "(setup, destroy)\n" + yaml.safe_dump(operator, sort_keys=False))
    return paths


def handle_request(world, method: str, body: bytes) -> tuple[int, dict]:
    """The control endpoint's POST /_sandbox/operators: seed once, answer what the files need."""
    if method != "POST":
        return 405, {"error": "use POST"}
    try:
        request = json.loads(body or b"{}")
        policies = request["policies"]
        for alias, docs in policies.items():
            world.account_by_alias(alias)
            for key in ("read_only", "full"):
                if not isinstance(docs[key].get("Statement"), list):
                    raise ValueError(f"{alias}.{key} has no Statement list")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return 400, {"error": f'expected {{"policies": {{alias: {{"read_only": doc, "full": doc}}}}}} ({exc})'}
    try:
        return 200, seed_operators(world, policies)
    except Exception as exc:  # e.g. seeded twice: RAM answers EntityAlreadyExists
        return 409, {"error": f"could not seed the operators: {exc}"}
