"""A real ``flask --app wsgi deliver-mail --loop --interval 30`` process on the suite's
database, as production runs it beside gunicorn; its output lines are collected as they
come. Both pollers sleep 30 s, so a test that sees mail or a webhook arrive within a
second or two proves the wake-up worked."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP = 60  # seconds for a cold interpreter on a loaded machine to import the app


class Worker:
    def __init__(self, database_url: str, **settings: str):
        """``settings``: the worker's ``PORTAL_*`` variables beyond the database (none of
        the test process's own are passed on)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(PORTAL_ENV="testing", PORTAL_DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
        env.update(settings)
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "deliver-mail", "--loop"]
        self.process = subprocess.Popen(
            [*command, "--interval", "30"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __repr__(self) -> str:
        return f"<Worker saying {self.lines!r}>"

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float = STARTUP) -> str:
        def found():
            return next((line for line in self.lines if text in line), None)

        with self._changed:
            self._changed.wait_for(lambda: found() or self.process.poll() is not None, timeout)
            assert found(), f"worker said {self.lines!r}, not {text!r}"
            return found()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        self.process.stdout.close()
