"""Background delivery threads of the serving process (``PORTAL_MAIL_DELIVERY="thread"``):
a pass, then a wait until a request wakes it or the poll interval passes (so due retries go
out too). The mail and the webhook deliveries each have one, started on first use."""

import logging
import os
import threading

from flask import Flask

log = logging.getLogger(__name__)


class PassThread(threading.Thread):
    """Runs ``run_pass(app, worker_id) -> int`` until stopped; a pass that did ``batch``
    things goes again at once, as there may be more due."""

    def __init__(self, app: Flask, name: str, run_pass, batch: int, worker_id: str):
        super().__init__(name=name, daemon=True)  # never keeps the process alive
        self.app, self.pid, self.run_pass, self.batch = app, os.getpid(), run_pass, batch
        self.worker_id = worker_id
        self.label = name.removeprefix("portal-").replace("-", " ")  # "mail delivery"
        self.woken, self.stopping = threading.Event(), False

    def run(self) -> None:
        while not self.stopping:
            app, done = self.app, 0  # the app that woke it last: its config applies
            try:
                done = self.run_pass(app, self.worker_id)
            except Exception:  # a thread has nobody to raise to: log, wait, try again
                log.exception("%s failed; the delivery thread tries again", self.label)
            if done < self.batch:
                self.woken.wait(app.config.get("PORTAL_MAIL_POLL_INTERVAL", 5.0))
            self.woken.clear()  # before the next pass, which sees everything committed so far


_threads: dict[str, PassThread] = {}
_lock = threading.Lock()


def poke(app: Flask, name: str, run_pass, *, batch: int, worker_id) -> None:
    """Wake the thread ``name`` of this process, starting it on first use."""
    with _lock:
        thread = _threads.get(name)
        if thread is None or not thread.is_alive() or thread.pid != os.getpid():
            thread = _threads[name] = PassThread(app, name, run_pass, batch, worker_id())
            thread.start()
        thread.app = app
    thread.woken.set()


def running(name: str) -> PassThread | None:
    thread = _threads.get(name)
    return thread if thread is not None and thread.is_alive() else None


def stop(name: str, timeout: float = 30.0) -> None:
    """Stop the thread after its current pass (tests, and anyone who asks)."""
    with _lock:
        thread = _threads.pop(name, None)
    if thread is not None:
        thread.stopping = True
        thread.woken.set()
        thread.join(timeout)
