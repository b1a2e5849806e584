"""The secrets footfall makes for itself: the sink's access token and the key that personal
values and erased ids are hashed with.

Each is taken from the configuration when given there (several machines must share them),
else created once at random in the state folder, readable by its owner only, so a first
run needs no set-up and never runs with a guessable secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from infra.config import Settings

SINK_TOKEN_FILE = "sink.token"
HASH_KEY_FILE = "hash.key"
OWNER_ONLY = 0o600


def stored_secret(path: Path) -> str:
    """The secret in `path`, made at random (owner-only) when there is none.

    Several processes may start at once: the file is written whole under another name and
    linked into place, which fails if one is already there, so every process reads the
    same complete secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} is readable by others (mode {mode:o}); make it 0600")
    secret = path.read_text().strip()
    if not secret:
        raise ValueError(f"{path} is empty; delete it to have a new secret made")
    return secret


def sink_token(settings: Settings) -> str:
    """What every request to the sink's port must carry: FOOTFALL_SINK_TOKEN, else the state folder's."""
    return settings.sink_token or stored_secret(settings.state_dir / SINK_TOKEN_FILE)


def site_key(settings: Settings, site_id: str) -> bytes:
    """The key one site's personal values and ids are hashed with: the site's own
    `hash_secret` when set, else one derived for it from FOOTFALL_HASH_KEY or the state
    folder's key, so no two sites' hashes of one value agree."""
    site = next((site for site in settings.sites if site.id == site_id), None)
    if site is not None and site.hash_secret:
        return site.hash_secret.encode()
    master = settings.hash_key or stored_secret(settings.state_dir / HASH_KEY_FILE)
    return hmac.new(master.encode(), site_id.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=1024)
def _keyed(key: bytes) -> "hmac.HMAC":
    """The HMAC state after the key, made once per key: each value then only copies it."""
    return hmac.new(key, digestmod=hashlib.sha256)


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a value, in hex: equal values hash alike, so joins still work, and
    without the key no value can be guessed back from its hash."""
    keyed = _keyed(key).copy()
    keyed.update(value.encode())
    return keyed.hexdigest()
