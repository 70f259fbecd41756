import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request
import uuid

import support

from fbdi_notify import Publisher


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def until(what, fn, tries=300):
    """fn() until it returns something true, a tenth of a second apart."""
    for _ in range(tries):
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{what}: not after {tries} tries")


class TestLocalStack(unittest.TestCase):
    """The package against the local stack (`make run`), as an upstream
    system uses it: it sends to the stack's SQS intake, and the user sees
    the result over the stack's WebSocket."""

    @classmethod
    def setUpClass(cls):
        support.aws_env()
        binary = os.environ.get("FBDI_LOCAL_STACK")
        if not binary:
            go = shutil.which("go")
            if go is None:
                raise AssertionError("go is not on PATH: it builds the local stack (or set FBDI_LOCAL_STACK)")
            cls.tmp = tempfile.mkdtemp(prefix="fbdi-py-")
            binary = os.path.join(cls.tmp, "local-stack")
            subprocess.run([go, "build", "-o", binary, "./infra/local"], cwd=support.REPO, check=True)
        cls.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "LAMBDA_ENDPOINT")}
        env.update(LOCAL_PORT=str(cls.port), LOG_LEVEL="warn")
        cls.logs = tempfile.TemporaryFile()
        cls.stack = subprocess.Popen([binary], env=env, stdout=cls.logs, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{cls.port}"

        def healthy():
            if cls.stack.poll() is not None:
                raise AssertionError(f"the local stack exited: {cls.stack_logs()}")
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
            except OSError:
                return False

        until("the local stack serves", healthy, tries=600)
        cls.base = base
        cls.queues = get_json(base + "/dev/queues")

    @classmethod
    def stack_logs(cls):
        cls.logs.seek(0)
        return cls.logs.read().decode(errors="replace")[-4000:]

    @classmethod
    def tearDownClass(cls):
        cls.stack.send_signal(signal.SIGINT)
        try:
            cls.stack.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.stack.kill()
            cls.stack.wait()
        cls.logs.close()
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def connect(self, user):
        token = get_json(f"{self.base}/dev/token?user_id={user}")["token"]
        ws = support.WebSocket("127.0.0.1", self.port, token)
        self.addCleanup(ws.close)
        return ws

    def publisher(self):
        # No client: the Publisher finds the endpoint in the stack's queue URLs.
        return Publisher(self.queues["notifications"], self.queues["workflow"])

    def test_a_notification_reaches_the_users_history(self):
        user = f"py-{uuid.uuid4().hex[:8]}"
        self.publisher().send_generic_message(user, "Budget transfer 602 was approved", {"transaction_id": "602"})
        ws = self.connect(user)

        def stored():
            reply = ws.request({"type": "history"}, "history")
            self.assertEqual(reply["type"], "history", reply)
            return reply["items"]

        items = until("the notification is in the user's history", stored)
        self.assertEqual([(i["type"], i.get("message"), i.get("data")) for i in items],
                         [("notification", "Budget transfer 602 was approved", {"transaction_id": "602"})])

    def test_a_budget_transfer_becomes_a_workflow(self):
        user = f"py-{uuid.uuid4().hex[:8]}"
        transaction = f"py-{uuid.uuid4().hex[:12]}"
        m = support.sample("budget-transfer.json")
        self.publisher().submit_budget_transfer(transaction, m["lines"], m["options"], user_id=user)
        ws = self.connect(user)

        def status():
            reply = ws.request({"type": "status", "transaction_id": transaction}, "workflow_status")
            if reply["type"] == "error":
                self.assertEqual(reply["code"], "not_found", reply)
                return None
            return reply

        reply = until("the transfer has a workflow", status)
        self.assertEqual((reply["transaction_id"], reply["kind"]), (transaction, "budget_transfer"))
        self.assertNotEqual(reply["state"], "failed", reply)


if __name__ == "__main__":
    unittest.main()
