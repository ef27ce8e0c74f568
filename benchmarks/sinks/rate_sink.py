"""Counting delivery peers for benchmarks/run_adapter_rate.sh, on 127.0.0.1.

  rate_sink.py http PORT    answers 200 to every POST (HTTP/1.1 keep-alive, one thread per
                            connection)
  rate_sink.py smtp PORT    accepts every mail (aiosmtpd, no TLS: loopback benchmark only)

Prints "sink ready" when listening and, on SIGTERM, "sink: N received".
"""
import signal
import sys
import threading
import time

kind, port = sys.argv[1], int(sys.argv[2])
count = [0]
lock = threading.Lock()


def received():
    with lock:
        count[0] += 1


def finish(*_):
    print(f"sink: {count[0]} received", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, finish)

if kind == "http":
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer.request_queue_size = 256
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
elif kind == "smtp":
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
else:
    sys.exit(f"unknown sink kind {kind}")

print("sink ready", flush=True)
while True:
    time.sleep(3600)
