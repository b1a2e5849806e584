"""A local clickhouse-server process, for the tests and benchmarks of the native transport.

Everything the server keeps (configuration, data, logs) lives in one folder and it listens
on loopback only, so several can run side by side and none touches a system installation.
Started again on the same folder and ports, a server finds its tables as it left them,
which is how tests take it down under a running client.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from footfall.local.processes import Started, free_port, port_open, spawn, stop, wait_until

START_TIMEOUT_S = 60.0
# Distribution packages install the server under sbin, which is often not on a user's PATH.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin"])


@dataclass(frozen=True)
class ServerConfig:
    folder: Path
    tcp_port: int
    http_port: int
    host: str = "127.0.0.1"

    @classmethod
    def on_free_ports(cls, folder: Path) -> "ServerConfig":
        tcp_port = free_port()
        http_port = free_port()
        while http_port == tcp_port:
            http_port = free_port()
        return cls(folder, tcp_port, http_port)

    @property
    def config_file(self) -> Path:
        return self.folder / "config.xml"

    @property
    def users_file(self) -> Path:
        return self.folder / "users.xml"

    @property
    def log(self) -> Path:
        """The server's console output; its own logs are in `logs/`."""
        return self.folder / "console.log"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.tcp_port}"

    def url(self, database: str = "default") -> str:
        """The native-protocol URL of the default user, who has no password."""
        return f"clickhouse://default:@{self.address}/{database}"


def _folder(path: Path) -> str:
    # ClickHouse appends names to these paths as strings: they must end with a slash.
    return escape(f"{path}/")


def config_xml(config: ServerConfig) -> str:
    """The least a server needs. The root element is `yandex`, which old servers require
    and new ones still accept; old servers also refuse to start without mark_cache_size."""
    folder = config.folder
    return f"""<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>{escape(str(folder / "logs" / "server.log"))}</log>
        <errorlog>{escape(str(folder / "logs" / "server.err.log"))}</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>{escape(config.host)}</listen_host>
    <tcp_port>{config.tcp_port}</tcp_port>
    <http_port>{config.http_port}</http_port>
    <path>{_folder(folder / "data")}</path>
    <tmp_path>{_folder(folder / "tmp")}</tmp_path>
    <user_files_path>{_folder(folder / "user_files")}</user_files_path>
    <users_config>{escape(str(config.users_file))}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>268435456</mark_cache_size>
</yandex>
"""


def users_xml() -> str:
    """One user, `default`, without a password, from loopback only."""
    return """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <!-- How often a connection waiting for its client's next statement checks for
                 shutdown: at the default, 10 s, an idle client holds up every stop. -->
            <poll_interval>1</poll_interval>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default/>
    </quotas>
</yandex>
"""


def write_config(config: ServerConfig) -> None:
    config.folder.mkdir(parents=True, exist_ok=True)
    config.config_file.write_text(config_xml(config))
    config.users_file.write_text(users_xml())


def server_command(config_file: Path) -> list[str]:
    """The standalone server binary (distribution packages), else the single `clickhouse`
    binary of the official builds, which runs the server as a subcommand."""
    found = shutil.which("clickhouse-server", path=SEARCH_PATH)
    if found is not None:
        return [found, f"--config-file={config_file}"]
    found = shutil.which("clickhouse", path=SEARCH_PATH)
    if found is not None:
        return [found, "server", f"--config-file={config_file}"]
    raise FileNotFoundError("clickhouse-server is not installed; run `make setup`")


def start(config: ServerConfig) -> Started:
    """Write the configuration, start the server, and wait until its native port answers."""
    write_config(config)
    server = spawn("clickhouse", server_command(config.config_file), config.log, config.address)
    try:
        wait_until(lambda: port_open(config.host, config.tcp_port), START_TIMEOUT_S, "ClickHouse server", server)
    except BaseException:
        stop(server)
        raise
    return server


@dataclass
class ClickHouseServer:
    """A server this process owns, which can be stopped and started again on the same
    folder and ports (tests inject outages with it; benchmarks measure against it)."""

    config: ServerConfig
    process: Started | None = None

    def url(self, database: str = "default") -> str:
        return self.config.url(database)

    def start(self) -> None:
        self.process = start(self.config)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def start_private(folder: Path) -> ClickHouseServer:
    """A server on free loopback ports with everything in `folder`."""
    server = ClickHouseServer(ServerConfig.on_free_ports(folder))
    server.start()
    return server
