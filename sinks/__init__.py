"""The sink stage, the one writer to ClickHouse, in Vector's sink roles: `rows` builds rows
from records, `service` writes them (in the insert blocks `blocks` cuts, setting aside what
ClickHouse refuses as `rejections`), `sink` is the consumer loop, `app` the HTTP process."""
