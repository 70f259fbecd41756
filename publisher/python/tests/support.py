"""Helpers of the tests: the package on sys.path, the repository root, a
fake SQS client, moto_server's endpoint, and a minimal WebSocket client."""

import base64
import json
import os
import socket
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "src"))


def sample(name):
    """A sample message of the repository's events/messages, decoded."""
    with open(os.path.join(REPO, "events", "messages", name), encoding="utf-8") as f:
        return json.load(f)


class FakeSQS:
    """Records send_message calls; answers with a fixed MessageId."""

    def __init__(self):
        self.sent = []

    def send_message(self, **kwargs):
        self.sent.append(kwargs)
        return {"MessageId": f"m-{len(self.sent)}"}


def moto_endpoint(test):
    """MOTO_ENDPOINT, which infra/test/with-moto.sh sets. Without it the test
    is skipped when run by hand and fails under CI, as the Go tests do
    (internal/testing/awstest)."""
    ep = os.environ.get("MOTO_ENDPOINT")
    if not ep:
        if os.environ.get("CI"):
            test.fail("MOTO_ENDPOINT is not set: run the tests with infra/test/with-moto.sh")
        raise unittest.SkipTest("MOTO_ENDPOINT is not set: run under infra/test/with-moto.sh")
    return ep


def aws_env():
    """Dummy credentials for moto and the local stack."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class WebSocket:
    """Just enough of RFC 6455 to talk JSON text frames to the local stack,
    whose API Gateway emulator is the only server it meets. The standard
    library has no WebSocket client and the package must need nothing but
    boto3 and jsonschema, so the tests carry this one."""

    def __init__(self, host, port, token, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: bearer, {token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"handshake refused: {status!r}")

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        return buf

    def recv(self):
        """The next text message, decoded (control frames are skipped)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            if b0 & 0x0F == 0x1:
                return json.loads(payload)
            if b0 & 0x0F == 0x8:
                raise ConnectionError("closed by the server")

    def request(self, obj, reply_type):
        """Sends obj and returns the first message of type reply_type."""
        self.send(obj)
        while True:
            m = self.recv()
            if m.get("type") in (reply_type, "error"):
                return m

    def close(self):
        self.sock.close()
