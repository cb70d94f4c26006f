#!/usr/bin/env python3
"""A loopback HTTP server for the download tests: serves ROOT's files with byte ranges and,
by path prefix, the failures a downloader must survive:
  /ok/F        the file (206 with Content-Range for "Range: bytes=N-")
  /cut/F       the first request for F sends half the body and drops the connection; later
               requests behave as /ok/F
  /stall/F     sends the headers and half the body, then nothing for a minute
  /redirect/F  302 to /ok/F
  /norange/F   ignores Range: always 200 with the whole file
  /flaky/F     503 for the first request for F, then as /ok/F
  /short/F     the first request for F sends half the body without a Content-Length and
               closes (a clean end, short); later requests behave as /ok/F
Anything else, or a missing file, is 404. Each request is logged to LOG as
"PATH RANGE" (RANGE "-" when absent). Binds 127.0.0.1 on a free port written to PORTFILE.
usage: http_server.py ROOT PORTFILE LOG
"""
import http.server
import os
import sys
import threading
import time

ROOT, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def first(self, key):
        with lock:
            new = key not in seen
            seen.add(key)
        return new

    def do_GET(self):
        rng = self.headers.get("Range")
        with lock, open(LOG, "a") as log:
            log.write("%s %s\n" % (self.path, rng or "-"))
        parts = self.path.split("/", 2)
        if len(parts) < 3:
            return self.fail(404)
        mode, name = parts[1], parts[2]
        path = os.path.join(ROOT, os.path.basename(name))
        if not os.path.isfile(path):
            return self.fail(404)
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/ok/" + name)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "flaky" and self.first(self.path):
            return self.fail(503)
        with open(path, "rb") as f:
            data = f.read()
        start = 0
        if rng and mode != "norange" and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        if mode == "short" and self.first(self.path):
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "cut" and self.first(self.path):
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "trickle":  # a few bytes at a time, never quite stalled
            for i in range(0, len(body), 64):
                self.wfile.write(body[i:i + 64])
                self.wfile.flush()
                time.sleep(0.2)
            return
        if mode == "stall":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            time.sleep(60)
            return
        self.wfile.write(body)

    def fail(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
