"""`homesafe` subcommands as real processes: start, wait for a line of their log, SIGTERM."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt

STOP_WITHIN_S = 10.0  # `docker stop` sends SIGKILL 10 s after SIGTERM


class HomesafeProcess:
    """One `python -m homesafe.cli ARGS` with its own environment; output goes to a log file."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path, name: str) -> None:
        self.args = args
        self.log_path = cwd / f"{name}.log"
        self._log = open(self.log_path, "wb")
        base = {k: v for k, v in os.environ.items() if not k.startswith("HOMESAFE_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "homesafe.cli", *args],
            # No fixed metrics port unless the test asks: test workers run side by side.
            env={**base, "HOMESAFE_METRICS_PORT": "0", **env},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float = 60.0) -> re.Match[str]:
        """The first match of pattern in the log; fail with the log if the process dies first."""
        deadline = time.monotonic() + timeout_s
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.log_text())
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"homesafe {' '.join(self.args)} exited with {self.proc.returncode} before "
                    f"{pattern!r}:\n{self.log_text()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {pattern!r} from homesafe {' '.join(self.args)}:\n{self.log_text()[-4000:]}"
                )
            time.sleep(0.1)

    def terminate(self) -> int:
        """SIGTERM; the exit status, or fail when the process is still there after STOP_WITHIN_S."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"homesafe {' '.join(self.args)} still ran {STOP_WITHIN_S:.0f} s after SIGTERM:\n"
                f"{self.log_text()[-4000:]}"
            ) from None

    def finish(self, timeout_s: float = 120.0) -> str:
        """Wait for a one-shot command; its log, or fail with it when the status is not 0."""
        code = self.proc.wait(timeout=timeout_s)
        self._log.close()
        text = self.log_text()
        assert code == 0, f"homesafe {' '.join(self.args)} exited with {code}:\n{text[-4000:]}"
        return text

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


def homesafe(args: list[str], *, env: dict[str, str], cwd: Path) -> str:
    """Run a one-shot `homesafe ARGS` to the end; its output (fails unless the status is 0)."""
    return HomesafeProcess(args, env=env, cwd=cwd, name="-".join(args[:2])).finish()


def publish_readings(
    host: str,
    port: int,
    *,
    gateway_id: str,
    messages: int,
    first_ts: int,
    protocol: int = mqtt.MQTTv5,
    username: str | None = None,
    password: str | None = None,
) -> int:
    """Publish `messages` telemetry messages (QoS 1, two sensors each); wait for every PUBACK.

    Returns the number of readings sent; each reading's ts is distinct (first_ts + 60 s · i).
    """
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{gateway_id}", protocol=protocol
    )
    if username is not None:
        client.username_pw_set(username, password)
    client.connect(host, port)
    client.loop_start()
    try:
        infos = []
        for i in range(messages):
            ts = first_ts + 60 * i
            payload = {
                "v": 1,
                "seq": i,
                "readings": [
                    {"sensor": "s1", "ts": ts, "temperature_c": 18.0, "humidity_pct": 60.0},
                    {"sensor": "s2", "ts": ts, "temperature_c": 17.0, "wme_pct": 14.0},
                ],
            }
            infos.append(
                client.publish(
                    f"homesafe/v1/gw/{gateway_id}/telemetry", orjson.dumps(payload), qos=1
                )
            )
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published()
    finally:
        client.loop_stop()
        client.disconnect()
    return 2 * messages
