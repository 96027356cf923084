"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records (headers, raw body) of
every POST and answers as scripted: a status, ("hang", seconds) or ("redirect", url)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.script: list = []  # used first to last; 200 once it is empty
        self.arrived = threading.Condition()
        self.released = threading.Event()  # ends every hang (at close)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.requests.append((headers, body))
                    answer = receiver.script.pop(0) if receiver.script else 200
                    receiver.arrived.notify_all()
                location = None
                if isinstance(answer, tuple) and answer[0] == "hang":
                    receiver.released.wait(answer[1])
                    answer = 200
                elif isinstance(answer, tuple) and answer[0] == "redirect":
                    answer, location = 302, answer[1]
                try:
                    self.send_response(answer)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender gave up on a hang
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]

    events = bodies

    def types(self) -> list[str]:
        return [event["type"] for event in self.bodies()]

    def header(self, name: str) -> list[str]:
        return [headers.get(name) for headers, _ in self.requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
