import pytest

from infra.clickhouse.backend import is_read_only


@pytest.mark.parametrize("sql", ["SELECT 1", "  select * from t", "WITH x AS (SELECT 1) SELECT * FROM x", "SHOW TABLES",
                                 "DESCRIBE TABLE t", "EXPLAIN SELECT 1", "(SELECT 1)", "SELECT 1;"])
def test_reads_are_allowed(sql: str) -> None:
    assert is_read_only(sql)


@pytest.mark.parametrize("sql", ["", "INSERT INTO t VALUES (1)", "DROP TABLE t", "ALTER TABLE t DELETE WHERE 1",
                                 "SELECT 1; DROP TABLE t", "OPTIMIZE TABLE t FINAL", "CREATE TABLE t (x UInt8) ENGINE=Memory"])
def test_writes_and_several_statements_are_refused(sql: str) -> None:
    assert not is_read_only(sql)
