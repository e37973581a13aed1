"""Minimal raw Varlink client for the end-to-end tests.

It speaks the wire format directly (one JSON object + NUL per message) so the
tests can also send what a well-behaved client never would: split messages,
several calls in one write, junk, oversized messages.
"""

import json
import socket
import time

REPLY_KEYS = {"parameters", "continues", "error"}
DEFAULT_TIMEOUT = 10.0


class Closed(Exception):
    """The daemon closed the connection."""


class Client:
    def __init__(self, path, timeout=DEFAULT_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self._buf = b""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        # A full listen backlog makes a unix connect fail with EAGAIN instead
        # of waiting as a blocking client would: wait here too.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.sock.close()
                    raise TimeoutError("connect to %s: backlog full" % path)
                time.sleep(0.01)
            except BaseException:
                self.sock.close()
                raise

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_call(self, method, parameters=None, oneway=False, more=False):
        self.send_bytes(encode_call(method, parameters, oneway, more))

    def read_message(self, timeout=None):
        """Returns the next reply as a dict; raises Closed on EOF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete reply from %s" % self.path)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("connection closed with %d bytes pending: %r"
                             % (len(self._buf), self._buf[:200]))
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        reply = json.loads(raw.decode("utf-8"))
        check_reply(reply)
        return reply

    def call(self, method, parameters=None, timeout=None):
        self.send_call(method, parameters)
        return self.read_message(timeout)

    def is_closed(self, timeout=5.0):
        """True if the daemon closes the connection within timeout seconds
        (discarding anything it sends first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self._buf += chunk
        return False


def encode_call(method, parameters=None, oneway=False, more=False):
    msg = {"method": method}
    if parameters is not None:
        msg["parameters"] = parameters
    if oneway:
        msg["oneway"] = True
    if more:
        msg["more"] = True
    return json.dumps(msg).encode("utf-8") + b"\0"


def check_reply(reply):
    """Asserts the wire rules for a reply."""
    assert isinstance(reply, dict), "reply is not an object: %r" % (reply,)
    extra = set(reply) - REPLY_KEYS
    assert not extra, "reply has keys beyond %s: %r" % (sorted(REPLY_KEYS), reply)
    if "parameters" in reply:
        assert isinstance(reply["parameters"], dict), reply
    if "error" in reply:
        assert isinstance(reply["error"], str), reply
        assert not reply.get("continues"), "an error must be final: %r" % reply


def call(path, method, parameters=None, timeout=DEFAULT_TIMEOUT):
    """One call on a fresh connection; returns the reply dict."""
    with Client(path, timeout) as c:
        return c.call(method, parameters)
