"""Start the app the way `make run` does: `flask db upgrade`, then gunicorn with its config.

Used by tests that must see the real server: its access log, its error log, the headers
gunicorn believes, the files it writes.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MAKEFILE = PROJECT_DIR / "Makefile"
# The gunicorn options of `make run`, besides the address, workers and threads.
GUNICORN_CONFIG = "python:clinic.gunicorn_conf"
APP = "clinic:create_app()"


@dataclass
class Served:
    """A running server: where it listens, its instance folder and what it logged."""

    port: int
    instance: Path
    stdout: Path
    stderr: Path

    @property
    def database(self) -> Path:
        return self.instance / "clinic.sqlite3"

    def logs(self) -> str:
        return self.stdout.read_text(encoding="utf-8") + self.stderr.read_text(encoding="utf-8")

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """Wait until a line with text was logged (gunicorn writes the access line late)."""
        deadline = time.monotonic() + timeout
        while text not in self.logs():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never reached the logs:\n{self.logs()}")
            time.sleep(0.05)


def clean_environment(instance: Path) -> dict[str, str]:
    """The environment of `make run` on a fresh instance folder, nothing else configured."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CLINIC_")
        and name not in {"DATABASE_URL", "FORWARDED_ALLOW_IPS", "GUNICORN_CMD_ARGS"}
    }
    environment["CLINIC_INSTANCE_PATH"] = str(instance)
    # The server lays PDFs out itself: no renderer processes to start and stop.
    environment["CLINIC_PDF_RENDER_PROCESSES"] = "0"
    return environment


def migrate(instance: Path, *, umask: int) -> None:
    """Run the first step of `make run`: create or upgrade the database."""
    subprocess.run(
        [str(BIN / "flask"), "--app", "clinic", "db", "upgrade"],
        env=clean_environment(instance),
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        umask=umask,
    )


@contextmanager
def serve(instance: Path, logs: Path, *, umask: int) -> Iterator[Served]:
    """Run the second step of `make run` (gunicorn) on a port of the system's choosing."""
    stdout, stderr = logs / "stdout.log", logs / "stderr.log"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                GUNICORN_CONFIG,
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "1",
                "--threads",
                "2",
                APP,
            ],
            env=clean_environment(instance),
            cwd=PROJECT_DIR,
            stdout=out,
            stderr=err,
            umask=umask,
        )
    try:
        served = Served(0, instance, stdout, stderr)
        deadline = time.monotonic() + 30
        while not (match := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", served.logs())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start:\n{served.logs()}")
            time.sleep(0.05)
        served.port = int(match.group(1))
        while True:
            try:
                served.request("GET", "/static/css/app.css")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
