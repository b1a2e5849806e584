from pathlib import Path

import pytest
from pydantic import ValidationError

from collector.cors import cors_headers, preflight_allowed
from infra.config import Settings, Site


def test_defaults_serve_the_demo_site_on_localhost(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_CONFIG", raising=False)
    settings = Settings()
    assert settings.collector_url == "http://127.0.0.1:8080"
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    demo = settings.sites_by_key["demo_key"]
    assert demo.id == "demo"
    for origin in ("http://localhost", "http://localhost:3000", "http://127.0.0.1:8000", "https://localhost:8443"):
        assert demo.allows_origin(origin)
    for origin in ("http://localhost.evil.com", "https://example.com", "http://127.0.0.2"):
        assert not demo.allows_origin(origin)


def test_config_file_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('collector_port = 9000\n[[sites]]\nid = "shop"\nwrite_key = "k"\nallowed_origins = ["https://*.shop.test"]\n')
    monkeypatch.setenv("FOOTFALL_CONFIG", str(config))
    monkeypatch.setenv("FOOTFALL_COLLECTOR_PORT", "9100")
    settings = Settings()
    assert settings.collector_port == 9100  # the environment wins over the file
    assert [site.id for site in settings.sites] == ["shop"]
    assert settings.sites[0].allows_origin("https://www.shop.test")


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOOTFALL_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(FileNotFoundError, match="absent.toml"):
        Settings()


def test_sites_must_not_share_keys() -> None:
    with pytest.raises(ValidationError, match="share a write_key"):
        Settings(sites=[Site(id="a", write_key="k"), Site(id="b", write_key="k")])


def test_cors_headers() -> None:
    sites = [Site(id="a", write_key="k", allowed_origins=["https://a.test"])]
    assert preflight_allowed("https://a.test", sites)
    assert not preflight_allowed("https://b.test", sites)
    assert cors_headers("https://a.test", True)["Access-Control-Allow-Origin"] == "https://a.test"
    assert "Access-Control-Allow-Origin" not in cors_headers("https://b.test", False)
