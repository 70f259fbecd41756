import json
import unittest
import uuid

import boto3

import support

from fbdi_notify import InvalidMessage, Publisher


class TestOnMoto(unittest.TestCase):
    """The package against a real SQS API: what it sends is what a consumer reads."""

    def setUp(self):
        ep = support.moto_endpoint(self)
        support.aws_env()
        self.sqs = boto3.client("sqs", endpoint_url=ep, region_name="us-east-1")
        self.urls = []
        for name in ("notifications", "workflow"):
            url = self.sqs.create_queue(QueueName=f"py-{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            self.addCleanup(self.sqs.delete_queue, QueueUrl=url)
            self.urls.append(url)

    def receive(self, url):
        out = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return out.get("Messages", [])

    def test_sends_to_each_queue(self):
        pub = Publisher(*self.urls, sqs_client=self.sqs)
        m = support.sample("budget-transfer.json")
        note_id = pub.send_generic_message("123", "Budget transfer 602 was approved", {"transaction_id": "602"})
        transfer_id = pub.submit_budget_transfer(m["transaction_id"], m["lines"], m["options"], user_id="123")
        cases = [
            dict(name="notification", url=self.urls[0], id=note_id,
                 want={"user_id": "123", "type": "notification", "message": "Budget transfer 602 was approved",
                       "data": {"transaction_id": "602"}}),
            dict(name="budget transfer", url=self.urls[1], id=transfer_id, want=m),
        ]
        for c in cases:
            with self.subTest(name=c["name"]):
                got = self.receive(c["url"])
                self.assertEqual(len(got), 1)
                self.assertEqual(got[0]["MessageId"], c["id"])
                self.assertEqual(json.loads(got[0]["Body"]), c["want"])

    def test_an_invalid_message_reaches_no_queue(self):
        pub = Publisher(*self.urls, sqs_client=self.sqs)
        with self.assertRaises(InvalidMessage):
            pub.send_upload_failed("123", "602")  # no error
        self.assertEqual(self.receive(self.urls[0]), [])

    def test_a_publisher_finds_the_endpoint_in_the_queue_url(self):
        pub = Publisher(*self.urls)  # no client: made from the URL, as for the local stack
        pub.send_generic_message("123", "hi")
        self.assertEqual(len(self.receive(self.urls[0])), 1)


if __name__ == "__main__":
    unittest.main()
