from datetime import UTC, datetime

from schemas.erasures import Erasure

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_two_people_sharing_an_id_keep_two_records_after_compaction() -> None:
    shared_device = "a" * 64
    ann = Erasure(site_id="shop", id_hashes=[shared_device, "b" * 64], requested_at=AT)
    bob = Erasure(site_id="shop", id_hashes=[shared_device, "c" * 64], requested_at=AT)
    assert ann.key != bob.key


def test_a_repeated_request_collapses_whatever_the_order_of_its_ids() -> None:
    first = Erasure(site_id="shop", id_hashes=["b" * 64, "a" * 64], requested_at=AT)
    again = Erasure(site_id="shop", id_hashes=["a" * 64, "b" * 64, "a" * 64], requested_at=AT)
    assert first.key == again.key
    assert first.key.startswith(b"shop:")
    assert Erasure(site_id="other", id_hashes=["a" * 64, "b" * 64], requested_at=AT).key != first.key
