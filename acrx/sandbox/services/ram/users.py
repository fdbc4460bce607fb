"""RAM users and their AccessKeys. Keys live in the world's keyring (the server authenticates
with it); the secret is handed out once, by CreateAccessKey, and never listed again."""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError, invalid_parameter
from acrx.sandbox.core.identity import Credential, Principal
from acrx.sandbox.services.ram.entities import (
    MAX_ACCESS_KEYS_PER_USER, MAX_USER_COMMENTS, User, already_exists, check_text, check_user_name, conflict,
    not_found,
)

KEY_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


class UserStore:
    """Mixed into the RAM Backend, which provides world, account, attachments."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    def user(self, name: str) -> User:
        found = self.users.get(name)
        if found is None:
            raise not_found("User", name)
        return found

    def create_user(self, name: str, display_name: str = "", comments: str = "", email: str = "",
                    mobile_phone: str = "") -> User:
        check_user_name(name)
        check_text("Comments", comments, MAX_USER_COMMENTS)
        if name in self.users:
            raise already_exists("User", name)
        now = self.world.clock.now()
        user = User(name, self.world.ids.digits(16), self.account, display_name or name, comments or "",
                    email or "", mobile_phone or "", now, now)
        self.users[name] = user
        return user

    def update_user(self, name: str, new_comments: str | None = None, new_display_name: str | None = None) -> User:
        """UpdateUser: only the fields given change (NewUserName is not modelled: acrx never renames)."""
        user = self.user(name)
        if new_comments is not None:
            user.comments = check_text("NewComments", new_comments, MAX_USER_COMMENTS)
        if new_display_name is not None:
            user.display_name = new_display_name
        user.updated_at = self.world.clock.now()
        return user

    def delete_user(self, name: str) -> None:
        user = self.user(name)
        if self.access_keys(name):
            raise conflict("DeleteConflict.User.AccessKey", "The user has AccessKeys; delete them first.")
        if user.attachments:
            raise conflict("DeleteConflict.User.Policy", "The user has policies attached; detach them first.")
        del self.users[name]

    # -- AccessKeys -------------------------------------------------------------------------
    def access_keys(self, user_name: str) -> list[Credential]:
        keys = self.world.keyring.for_principal(self.account, "user", user_name)
        return sorted(keys, key=lambda c: c.created_at)

    def create_access_key(self, user_name: str) -> Credential:
        user = self.user(user_name)
        if len(self.access_keys(user_name)) >= MAX_ACCESS_KEYS_PER_USER:
            raise ApiError("LimitExceeded.User.AccessKey",
                           f"A user can have at most {MAX_ACCESS_KEYS_PER_USER} AccessKeys.", 409)
        ids = self.world.ids
        key = Credential(access_key_id="LTAI" + ids.alnum(20, KEY_ID_ALPHABET),
                         secret=ids.alnum(30, KEY_ID_ALPHABET),
                         principal=Principal(account=self.account, kind="user", name=user.name, user_id=user.user_id),
                         created_at=self.world.clock.now())
        return self.world.keyring.add(key)

    def _own_key(self, user_name: str, access_key_id: str) -> Credential:
        self.user(user_name)
        for key in self.access_keys(user_name):
            if key.access_key_id == access_key_id:
                return key
        raise not_found("AccessKey", access_key_id)

    def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        self._own_key(user_name, access_key_id)
        self.world.keyring.remove(access_key_id)

    def update_access_key(self, user_name: str, access_key_id: str, status: str) -> Credential:
        if status not in ("Active", "Inactive"):
            raise invalid_parameter("Status", "It must be Active or Inactive.")
        key = self._own_key(user_name, access_key_id)
        key.active = status == "Active"
        return key
