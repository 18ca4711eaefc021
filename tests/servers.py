"""Real Mosquitto, InfluxDB and PostgreSQL for tests: free ports, throwaway data, reliable teardown."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

INSTALL_HINT = (
    "run `make test` once (it installs and starts the test servers via scripts/ensure-services.sh)"
)
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

_LIVE: set[_Server] = set()


class ServerUnavailable(RuntimeError):
    """A test server binary is missing or the server would not start; the message says why."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on host that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """Say whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def find_binary(
    name: str, env_var: str, extra_dirs: tuple[str, ...] = ("/usr/sbin", "/usr/bin")
) -> str:
    """Locate a server binary (env override, PATH, then sbin dirs) or raise ServerUnavailable."""
    override = os.environ.get(env_var)
    if override:
        if os.access(override, os.X_OK):
            return override
        raise ServerUnavailable(f"{env_var}={override} is not an executable file")
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServerUnavailable(f"`{name}` is not installed: {INSTALL_HINT}")


_PRCTL: Any
try:
    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # loaded before any fork
except (OSError, AttributeError):
    _PRCTL = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM us when the forking thread of pytest dies."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class _Server:
    """One server process with a fixed port, a work directory and a log file in it."""

    name = "server"

    def __init__(self, workdir: Path, host: str, port: int) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port
        self.log_path = self.workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        return port_open(self.host, self.port)

    def _after_start(self) -> None:
        """Hook run once the server answers."""

    @property
    def pid(self) -> int | None:
        """The process id while running, else None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server on its port and wait until it answers; raise with its log if it fails."""
        if self.running:
            return
        # A restart may race the old socket's release; give the port a moment to come free.
        free_by = time.monotonic() + 5.0
        while port_open(self.host, self.port):
            if time.monotonic() > free_by:
                raise ServerUnavailable(
                    f"{self.name}: port {self.host}:{self.port} is in use by another process"
                )
            time.sleep(0.05)
        deadline = time.monotonic() + START_TIMEOUT_S
        self._log = open(self.log_path, "ab")
        self._log.write(f"--- {self.name} starting: {' '.join(self._command())}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            self._command(),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        _LIVE.add(self)
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise ServerUnavailable(
                    f"{self.name} exited with status {code} on start; log {self.log_path}:\n"
                    f"{_tail(self.log_path)}"
                )
            if self._ready():
                self._after_start()
                return
            time.sleep(0.05)
        self.stop()
        raise ServerUnavailable(
            f"{self.name} did not answer on {self.host}:{self.port} within {START_TIMEOUT_S:.0f} s; "
            f"log {self.log_path}:\n{_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period); safe to call twice."""
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """Kill the server at once with SIGKILL, as a crash would (no clean shutdown)."""
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=STOP_TIMEOUT_S)
        self.stop()

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        """The server's whole log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} running={self.running}>"


class Mosquitto(_Server):
    """A Mosquitto 2 broker on 127.0.0.1 and a free port.

    With a password file, the listener binds client ids to usernames (use_username_as_clientid)
    and refuses packets over max_packet_size, as scripts/docker/mosquitto.conf does; with
    ingest's own password file and ACL, a second listener (`ingest_port`) serves ingest only;
    with `tls` = (cafile, certfile, keyfile), a TLS listener (`tls_port`) serves gateways too."""

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        *,
        password_file: Path | str | None = None,
        acl_file: Path | str | None = None,
        persistence: bool = False,
        port: int | None = None,
        ingest_password_file: Path | str | None = None,
        ingest_acl_file: Path | str | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        max_packet_size: int = 256 * 1024,
    ) -> None:
        super().__init__(workdir, "127.0.0.1", port or free_port())
        self.binary = find_binary("mosquitto", "HOMESAFE_TEST_MOSQUITTO_BIN")
        self.password_file = Path(password_file).resolve() if password_file else None
        self.acl_file = Path(acl_file).resolve() if acl_file else None
        self.ingest_password_file = (
            Path(ingest_password_file).resolve() if ingest_password_file else None
        )
        self.ingest_acl_file = Path(ingest_acl_file).resolve() if ingest_acl_file else None
        self.ingest_port = free_port() if self.ingest_password_file else None
        self.tls = tls
        self.tls_port = free_port() if tls else None
        self.max_packet_size = max_packet_size
        self.persistence = persistence
        self.persistence_dir = self.workdir / "data"
        self.config_path = self.workdir / "mosquitto.conf"
        self.write_config()

    @property
    def url(self) -> str:
        """mqtt://127.0.0.1:PORT (no credentials)."""
        return f"mqtt://{self.host}:{self.port}"

    def write_config(self) -> None:
        """(Re)write mosquitto.conf from the current settings; takes effect on the next start."""
        user = pwd.getpwuid(os.getuid()).pw_name
        lines = [
            f"user {user}",  # as root, stay root so the broker can read our 0700 temp dirs
            "per_listener_settings true",
            f"max_packet_size {self.max_packet_size}",
            "max_queued_messages 1000000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
        ]
        if self.persistence:
            self.persistence_dir.mkdir(parents=True, exist_ok=True)
            lines += [
                "persistence true",
                f"persistence_location {self.persistence_dir}/",
                "autosave_interval 1",
            ]
        else:
            lines.append("persistence false")
        gateway_auth: list[str] = []
        if self.password_file is not None:
            gateway_auth += [
                "allow_anonymous false",
                f"password_file {self.password_file}",
                "use_username_as_clientid true",
            ]
        else:
            gateway_auth.append("allow_anonymous true")
        if self.acl_file is not None:
            gateway_auth.append(f"acl_file {self.acl_file}")
        lines += [f"listener {self.port} {self.host}", *gateway_auth]
        if self.tls is not None:
            cafile, certfile, keyfile = self.tls
            lines += [
                f"listener {self.tls_port} {self.host}",
                *gateway_auth,
                f"cafile {cafile}",
                f"certfile {certfile}",
                f"keyfile {keyfile}",
                "tls_version tlsv1.2",
            ]
        if self.ingest_password_file is not None:
            lines += [
                f"listener {self.ingest_port} {self.host}",
                "allow_anonymous false",
                f"password_file {self.ingest_password_file}",
            ]
            if self.ingest_acl_file is not None:
                lines.append(f"acl_file {self.ingest_acl_file}")
        self.config_path.write_text("\n".join(lines) + "\n")

    def reload(self) -> None:
        """Send SIGHUP so the broker re-reads its password file and ACL."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]


class Influx(_Server):
    """An InfluxDB 1.x server with database `telemetry`, on 127.0.0.1 and two free ports."""

    name = "influxd"
    database = "telemetry"

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        super().__init__(workdir, "127.0.0.1", port or free_port())
        self.binary = find_binary("influxd", "HOMESAFE_TEST_INFLUXD_BIN")
        self.rpc_port = free_port()
        while self.rpc_port == self.port:
            self.rpc_port = free_port()
        self.config_path = self.workdir / "influxdb.conf"
        self.write_config()

    @property
    def url(self) -> str:
        """influxdb://127.0.0.1:PORT/telemetry, the HOMESAFE_TELEMETRY_URL shape."""
        return f"influxdb://{self.host}:{self.port}/{self.database}"

    @property
    def http_url(self) -> str:
        """http://127.0.0.1:PORT, for /ping, /write and /query."""
        return f"http://{self.host}:{self.port}"

    def write_config(self) -> None:
        """Write influxdb.conf: own dirs, free HTTP and RPC ports, quiet, no phoning home."""
        root = self.workdir
        self.config_path.write_text(
            f"""reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{root / "meta"}"

[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  query-log-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = true

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
"""
        )

    def _command(self) -> list[str]:
        return [self.binary, "-config", str(self.config_path)]

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.http_url}/ping", timeout=1) as resp:
                return bool(resp.status == 204)
        except (OSError, urllib.error.URLError):
            return False

    def _after_start(self) -> None:
        self.query(f"CREATE DATABASE {self.database}", method="POST")

    def query(self, q: str, *, method: str = "GET", db: str | None = None) -> dict[str, Any]:
        """Run InfluxQL through /query and return the decoded JSON answer."""
        params = {"q": q, "epoch": "s"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        if method == "GET":
            req = urllib.request.Request(f"{self.http_url}/query?{data.decode()}")
        else:
            req = urllib.request.Request(f"{self.http_url}/query", data=data, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer

    def create_database(self, prefix: str = "telemetry_") -> str:
        """Create a fresh database on this server; return its influxdb:// URL."""
        name = f"{prefix}{secrets.token_hex(6)}"
        self.query(f'CREATE DATABASE "{name}"', method="POST")
        return f"influxdb://{self.host}:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        """Drop a database (by name or influxdb:// URL) from this server."""
        name = name.rsplit("/", 1)[-1]
        self.query(f'DROP DATABASE "{name}"', method="POST")

    def write(self, lines: str, *, precision: str = "s", db: str | None = None) -> int:
        """POST line protocol to /write (default database `telemetry`); return the HTTP status."""
        req = urllib.request.Request(
            f"{self.http_url}/write?db={db or self.database}&precision={precision}",
            data=lines.encode(),
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)


def start_mosquitto(workdir: Path | str, **options: Any) -> Mosquitto:
    """Start a Mosquitto broker in workdir on a free port (options: Mosquitto's); the caller stops it."""
    broker = Mosquitto(Path(workdir), **options)
    broker.start()
    return broker


def start_influxd(workdir: Path | str) -> Influx:
    """Start influxd in workdir on free ports, with database `telemetry`; the caller stops it."""
    server = Influx(Path(workdir))
    server.start()
    return server


# --- PostgreSQL: one running server, a throwaway database per use -----------------------------


def pg_admin_url() -> str:
    """The libpq URL of a database from which test databases are created and dropped."""
    return os.environ.get("HOMESAFE_TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


def _sqlalchemy_url(admin_url: str, dbname: str) -> str:
    """The admin URL pointed at dbname, with the postgresql+psycopg scheme SQLAlchemy wants."""
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(
        ("postgresql+psycopg", parts.netloc, f"/{dbname}", parts.query, "")
    )


def _admin_connect() -> psycopg.Connection:
    """Open an autocommit connection to the admin database or raise ServerUnavailable."""
    import psycopg

    url = pg_admin_url()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ServerUnavailable(
            f"PostgreSQL is not reachable at {url} ({str(exc).strip()}): {INSTALL_HINT}, "
            "or set HOMESAFE_TEST_PG_ADMIN_URL"
        ) from exc


def create_postgres_database(prefix: str = "homesafe_test_") -> tuple[str, str]:
    """Create an empty database; return (name, postgresql+psycopg URL)."""
    name = f"{prefix}{secrets.token_hex(6)}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _sqlalchemy_url(pg_admin_url(), name)


def drop_postgres_database(name: str) -> None:
    """Drop a test database, closing whatever connections still use it."""
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Never leave a server behind ----------------------------------------------------------------


def stop_all() -> None:
    """Stop every server this process started and has not stopped."""
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(stop_all)
