import contextvars
import decimal
import json
import unittest
from unittest import mock

import support

import fbdi_notify
from fbdi_notify import InvalidMessage, Publisher

NOTIFY_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/NotificationQueue"
WORKFLOW_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/WorkflowQueue"


def budget(**changes):
    """The budget transfer sample's arguments, with changes to its lines."""
    m = support.sample("budget-transfer.json")
    for i, edit in changes.get("lines", {}).items():
        edit(m["lines"][i])
    return m


class TestCalls(unittest.TestCase):
    def setUp(self):
        self.sqs = support.FakeSQS()
        self.pub = Publisher(NOTIFY_URL, WORKFLOW_URL, self.sqs)

    def test_old_calls_send_protocol_messages(self):
        cases = [
            dict(name="upload started",
                 call=lambda p: p.send_upload_started(123, "602", "Budget transfer 602 started"),
                 want={"user_id": 123, "type": "oracle_upload_started", "transaction_id": "602",
                       "message": "Budget transfer 602 started"}),
            dict(name="progress with the step number of its name",
                 call=lambda p: p.send_progress_notification(user_id="123", transaction_id=602, step="Journal Import",
                                                             status="completed", message="done"),
                 want={"user_id": "123", "type": "oracle_upload_progress", "transaction_id": "602",
                       "step": "Journal Import", "step_number": 4, "total_steps": 5, "status": "completed",
                       "message": "done"}),
            dict(name="progress of a step of its own",
                 call=lambda p: p.send_progress_notification("123", "602", "Approve", "processing", step_number=1,
                                                             total_steps=2),
                 want={"user_id": "123", "type": "oracle_upload_progress", "transaction_id": "602", "step": "Approve",
                       "step_number": 1, "total_steps": 2, "status": "processing"}),
            dict(name="completed",
                 call=lambda p: p.send_upload_completed("123", "602", result_path="/budget/transfers/602"),
                 want={"user_id": "123", "type": "oracle_upload_completed", "transaction_id": "602", "success": True,
                       "result_path": "/budget/transfers/602"}),
            dict(name="failed",
                 call=lambda p: p.send_upload_failed("123", "602", error="HTTP 500"),
                 want={"user_id": "123", "type": "oracle_upload_failed", "transaction_id": "602", "error": "HTTP 500"}),
            dict(name="generic message with a category, critical",
                 call=lambda p: p.send_generic_message("123", "Payroll run failed", category="payroll", critical=True),
                 want={"user_id": "123", "type": "notification", "message": "Payroll run failed",
                       "category": "payroll", "critical": True}),
            dict(name="user profile",
                 call=lambda p: p.set_user_profile(123, email="ana@example.com", locale="en"),
                 want={"user_id": 123, "type": "user_profile", "email": "ana@example.com", "locale": "en"}),
            dict(name="preferences",
                 call=lambda p: p.set_preferences("123", {"general": {"in_app": True, "email": False}}),
                 want={"user_id": "123", "type": "set_preferences",
                       "categories": {"general": {"in_app": True, "email": False}}}),
            dict(name="generic message to several users",
                 call=lambda p: p.send_generic_message(["123", 456], "Closing at 6", {"at": 18}),
                 want={"user_ids": ["123", 456], "type": "notification", "message": "Closing at 6", "data": {"at": 18}}),
            dict(name="workflow notification of a system type",
                 call=lambda p: p.send_workflow_notification("123", "oracle_upload_started", {"transaction_id": 7}),
                 want={"user_id": "123", "type": "oracle_upload_started", "transaction_id": "7"}),
            dict(name="workflow notification of a general notification",
                 call=lambda p: p.send_workflow_notification("123", "notification", {"message": "hi", "data": {"a": 1}}),
                 want={"user_id": "123", "type": "notification", "message": "hi", "data": {"a": 1}}),
            dict(name="workflow notification of an old type of its own",
                 call=lambda p: p.send_workflow_notification("123", "budget_approved", {"message": "OK", "id": 602}),
                 want={"user_id": "123", "type": "notification", "message": "OK",
                       "data": {"id": 602, "notification_type": "budget_approved"}}),
            dict(name="workflow notification of an old type without a message",
                 call=lambda p: p.send_workflow_notification("123", "refresh", None),
                 want={"user_id": "123", "type": "notification", "message": "refresh",
                       "data": {"notification_type": "refresh"}}),
        ]
        for c in cases:
            with self.subTest(name=c["name"]):
                self.sqs.sent.clear()
                self.assertEqual(c["call"](self.pub), "m-1")
                self.assertEqual(len(self.sqs.sent), 1)
                sent = self.sqs.sent[0]
                self.assertEqual(sent["QueueUrl"], NOTIFY_URL)
                self.assertEqual(set(sent), {"QueueUrl", "MessageBody"}, "a standard queue takes no group or dedup id")
                self.assertEqual(json.loads(sent["MessageBody"]), c["want"])

    def test_bad_messages_raise_and_send_nothing(self):
        cases = [
            dict(name="no user", call=lambda p: p.send_generic_message(message="hi"), field="user_id"),
            dict(name="blank user", call=lambda p: p.send_generic_message(" ", "hi"), field="user_id"),
            dict(name="user id too long in bytes", call=lambda p: p.send_generic_message("é" * 200, "hi"),
                 field="user_id"),
            dict(name="user id too large a number", call=lambda p: p.send_generic_message(2**53, "hi"),
                 field="user_id"),
            dict(name="user id of another type", call=lambda p: p.send_generic_message(True, "hi"), field="user_id"),
            dict(name="bad user among several", call=lambda p: p.send_generic_message(["1", ""], "hi"),
                 field="user_ids[1]"),
            dict(name="no users", call=lambda p: p.send_generic_message([], "hi"), field="user_ids"),
            dict(name="generic without message", call=lambda p: p.send_generic_message("123"), field="message"),
            dict(name="data not an object", call=lambda p: p.send_generic_message("123", "hi", [1]), field="data"),
            dict(name="started without transaction", call=lambda p: p.send_upload_started("123"),
                 field="transaction_id"),
            dict(name="progress of an unknown step without number",
                 call=lambda p: p.send_progress_notification("123", "602", "Approve", "processing"),
                 field="step_number"),
            dict(name="progress with a bad status",
                 call=lambda p: p.send_progress_notification("123", "602", "Upload to UCM", "done"), field="status"),
            dict(name="progress beyond its steps",
                 call=lambda p: p.send_progress_notification("123", "602", "Verify Results", "completed",
                                                             total_steps=4),
                 field="step_number"),
            dict(name="failed without error", call=lambda p: p.send_upload_failed("123", "602"), field="error"),
            dict(name="category in upper case", call=lambda p: p.send_generic_message("123", "hi", category="Payroll"),
                 field="category"),
            dict(name="critical not a boolean", call=lambda p: p.send_generic_message("123", "hi", critical="yes"),
                 field="critical"),
            dict(name="preferences with an unknown channel",
                 call=lambda p: p.set_preferences("123", {"general": {"sms": True}}), field="categories.general.sms"),
            dict(name="field of another type",
                 call=lambda p: p.send_workflow_notification("123", "oracle_upload_started",
                                                             {"transaction_id": "602", "error": "x"}),
                 field="error"),
            dict(name="notification too large", call=lambda p: p.send_generic_message("123", "x" * 131072), field=""),
            dict(name="not JSON", call=lambda p: p.send_generic_message("123", "hi", {"at": object()}), field=""),
            dict(name="transfer without lines", call=lambda p: p.submit_budget_transfer("602", [], user_id="123"),
                 field="lines"),
            dict(name="transfer line without amount",
                 call=lambda p: p.submit_budget_transfer("602", budget(lines={1: lambda l: l.pop("amount")})["lines"],
                                                         user_id="123"),
                 field="lines[1].amount"),
            dict(name="transfer amount with a thousands separator",
                 call=lambda p: p.submit_budget_transfer("602", budget(lines={0: lambda l: l.update(amount="1,000")})[
                     "lines"], user_id="123"),
                 field="lines[0].amount"),
            dict(name="transfer with an unknown option",
                 call=lambda p: p.submit_budget_transfer("602", budget()["lines"], {"ledger": "1"}, user_id="123"),
                 field="options.ledger"),
            dict(name="journal line with a budget line's fields",
                 call=lambda p: p.submit_journal_import("603", budget()["lines"], user_id="123"),
                 field="lines[0].amount"),
            dict(name="workflow message with an action",
                 call=lambda p: p.submit({"action": "poll", "transaction_id": "602", "seq": 1}), field="action"),
        ]
        for c in cases:
            with self.subTest(name=c["name"]):
                self.sqs.sent.clear()
                with self.assertRaises(InvalidMessage) as cm:
                    c["call"](self.pub)
                self.assertEqual(cm.exception.field, c["field"], str(cm.exception))
                self.assertTrue(cm.exception.reason)
                self.assertEqual(self.sqs.sent, [])

    def test_transfers_send_the_samples(self):
        cases = [
            dict(name="budget transfer", file="budget-transfer.json", call=Publisher.submit_budget_transfer),
            dict(name="journal import", file="journal-import.json", call=Publisher.submit_journal_import),
        ]
        for c in cases:
            with self.subTest(name=c["name"]):
                self.sqs.sent.clear()
                m = support.sample(c["file"])
                c["call"](self.pub, m["transaction_id"], m["lines"], m["options"], user_id=m["user_id"])
                self.assertEqual(self.sqs.sent[0]["QueueUrl"], WORKFLOW_URL)
                self.assertEqual(json.loads(self.sqs.sent[0]["MessageBody"]), m)

    def test_decimal_amounts_and_dates_are_written_as_text(self):
        import datetime
        m = support.sample("journal-import.json")
        m["lines"][0]["entered_dr"] = decimal.Decimal("1234.50")
        m["lines"][0]["accounting_date"] = datetime.date(2025, 9, 30)
        self.pub.submit_journal_import(m["transaction_id"], m["lines"], m["options"], user_id=m["user_id"])
        line = json.loads(self.sqs.sent[0]["MessageBody"])["lines"][0]
        self.assertEqual((line["entered_dr"], line["accounting_date"]), ("1234.50", "2025-09-30"))

    def test_the_notification_user_is_per_context(self):
        def task(user):
            fbdi_notify.set_notification_user(user)
            return self.pub.send_generic_message(message="hi")

        contextvars.copy_context().run(task, "123")
        contextvars.copy_context().run(task, 456)
        users = [json.loads(s["MessageBody"])["user_id"] for s in self.sqs.sent]
        self.assertEqual(users, ["123", 456])
        with self.assertRaises(InvalidMessage):  # set in the other contexts only
            self.pub.send_generic_message(message="hi")

    def test_an_explicit_user_wins_over_the_notification_user(self):
        def task():
            fbdi_notify.set_notification_user("123")
            self.pub.send_upload_started("789", "602")
        contextvars.copy_context().run(task)
        self.assertEqual(json.loads(self.sqs.sent[0]["MessageBody"])["user_id"], "789")


class TestModuleFunctions(unittest.TestCase):
    def tearDown(self):
        fbdi_notify.set_publisher(None)

    def test_they_use_the_default_publisher(self):
        sqs = support.FakeSQS()
        fbdi_notify.set_publisher(Publisher(NOTIFY_URL, WORKFLOW_URL, sqs))
        m = support.sample("budget-transfer.json")
        fbdi_notify.send_generic_message("123", "hi")
        fbdi_notify.submit_budget_transfer(m["transaction_id"], m["lines"], m["options"], user_id="123")
        self.assertEqual([s["QueueUrl"] for s in sqs.sent], [NOTIFY_URL, WORKFLOW_URL])

    def test_the_default_publisher_reads_the_environment(self):
        env = {"FBDI_NOTIFICATION_QUEUE_URL": NOTIFY_URL, "FBDI_WORKFLOW_QUEUE_URL": WORKFLOW_URL}
        with mock.patch.dict("os.environ", env):
            p = fbdi_notify.get_publisher()
        self.assertEqual((p.notification_queue_url, p.workflow_queue_url), (NOTIFY_URL, WORKFLOW_URL))

    def test_a_missing_queue_url_is_a_configuration_error(self):
        sqs = support.FakeSQS()
        with mock.patch.dict("os.environ", clear=True):
            fbdi_notify.set_publisher(Publisher(sqs_client=sqs))
        with self.assertRaises(fbdi_notify.ConfigurationError):
            fbdi_notify.send_generic_message("123", "hi")
        self.assertEqual(sqs.sent, [])


if __name__ == "__main__":
    unittest.main()
