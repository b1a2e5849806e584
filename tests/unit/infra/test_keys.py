import os
import stat
from pathlib import Path

import pytest

from infra.config import Settings, Site
from infra.keys import keyed_hash, site_key, sink_token, stored_secret


def test_a_secret_is_made_once_owner_only_and_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "token"
    first = stored_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["token"]  # no draft left behind


def test_a_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    stored_secret(path)
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="0600"):
        stored_secret(path)


def test_an_emptied_secret_is_refused_rather_than_used(tmp_path: Path) -> None:
    path = tmp_path / "token"
    stored_secret(path)
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        stored_secret(path)


def test_the_configured_token_wins_over_the_state_folder(tmp_path: Path) -> None:
    made = sink_token(Settings(state_dir=tmp_path))
    assert sink_token(Settings(state_dir=tmp_path)) == made
    assert sink_token(Settings(state_dir=tmp_path, sink_token="t" * 20)) == "t" * 20


def test_site_keys_differ_by_site_and_follow_the_configuration(tmp_path: Path) -> None:
    shop = Site(id="shop", write_key="k1")
    own = Site(id="own", write_key="k2", hash_secret="s" * 16)
    settings = Settings(state_dir=tmp_path, sites=[shop, own])
    assert site_key(settings, "shop") != site_key(settings, "other")
    assert site_key(settings, "own") == b"s" * 16
    elsewhere = Settings(state_dir=tmp_path / "b", sites=[shop])
    assert site_key(elsewhere, "shop") != site_key(settings, "shop")  # another installation's key
    shared = Settings(state_dir=tmp_path / "c", sites=[shop], hash_key="h" * 16)
    assert site_key(shared, "shop") == site_key(Settings(state_dir=tmp_path / "d", sites=[shop], hash_key="h" * 16), "shop")


def test_keyed_hashes_join_but_depend_on_the_key() -> None:
    assert keyed_hash(b"k", "ann@example.com") == keyed_hash(b"k", "ann@example.com")
    assert keyed_hash(b"k", "ann@example.com") != keyed_hash(b"j", "ann@example.com")
    assert "ann" not in keyed_hash(b"k", "ann@example.com")
