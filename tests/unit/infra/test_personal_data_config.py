"""A site's personal-data entries as an operator writes them in footfall.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config import Settings, Site


def test_personal_data_is_read_from_the_sites_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "footfall.toml"
    config.write_text('[[sites]]\nid = "shop"\nwrite_key = "k"\n[sites.personal_data]\nemail = "keep"\nnational_id = "drop"\n')
    monkeypatch.setenv("FOOTFALL_CONFIG", str(config))
    [shop] = Settings().sites
    assert shop.personal_data == {"email": "keep", "national_id": "drop"}


@pytest.mark.parametrize("entries", [{"email": "encrypt"}, {"email": "KEEP"}, {"": "drop"}, {"x" * 201: "drop"}])
def test_an_unknown_action_or_an_impossible_name_is_refused(entries: dict) -> None:
    with pytest.raises(ValidationError):
        Site(id="shop", write_key="k", personal_data=entries)


def test_no_entries_means_the_defaults() -> None:
    assert Site(id="shop", write_key="k").personal_data == {}
