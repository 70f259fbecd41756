"""The Publisher and the calls of the old task_notifications module."""

import contextvars
import datetime
import decimal
import json
import os
import re
import threading
import urllib.parse
import uuid

from ._validation import InvalidMessage, check_notification, check_workflow

#: Environment variables naming the queues (the stack outputs
#: NotificationQueueURL and WorkflowQueueURL).
ENV_NOTIFICATION_QUEUE_URL = "FBDI_NOTIFICATION_QUEUE_URL"
ENV_WORKFLOW_QUEUE_URL = "FBDI_WORKFLOW_QUEUE_URL"

#: Step statuses of an oracle_upload_progress notification.
STATUS_PROCESSING, STATUS_COMPLETED, STATUS_FAILED = "processing", "completed", "failed"

#: The number of steps of every FBDI workflow.
TOTAL_STEPS = 5

#: Step numbers of the system's step names (docs/protocol.md#workflow-steps),
#: used when send_progress_notification is given no step_number.
STEP_NUMBERS = {
    "Preparing Data": 1,
    "Upload to UCM": 2,
    "Interface Loader": 3,
    "Budget Import": 4,
    "Journal Import": 4,
    "Verify Results": 5,
    "AutoPost": 5,
}

# The notification types a sender may use; send_workflow_notification sends
# any other type as a "notification" carrying it in data.
_TYPES = ("notification", "oracle_upload_started", "oracle_upload_progress",
          "oracle_upload_completed", "oracle_upload_failed")

_user = contextvars.ContextVar("fbdi_notify_user", default=None)


class ConfigurationError(RuntimeError):
    """A queue URL the call needs was neither given nor in the environment."""


def set_notification_user(user_id):
    """Sets the user of later calls in this context (thread, task) that are
    given no user_id, as the old module did; None clears it. Returns a
    contextvars.Token for ``reset_notification_user``."""
    return _user.set(user_id)


def reset_notification_user(token):
    """Restores the user set before the set_notification_user that returned token."""
    _user.reset(token)


def _json_default(value):
    # Django hands out Decimal amounts, dates and UUIDs: write them as the
    # queues read them (amounts and ids as text, dates as YYYY-MM-DD).
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _encode(message):
    try:
        return json.dumps(message, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise InvalidMessage("", f"cannot be written as JSON: {e}") from None


def _client_for(url):
    import boto3  # imported here so that validation alone needs no AWS setup

    kwargs = {}
    parts = urllib.parse.urlsplit(url or "")
    m = re.match(r"^sqs[.-]([a-z0-9-]+)\.amazonaws\.com", parts.netloc)
    if m:
        kwargs["region_name"] = m.group(1)
    elif parts.netloc:
        # Not AWS (the local stack, moto): the queue URL names the endpoint.
        kwargs["endpoint_url"] = f"{parts.scheme}://{parts.netloc}"
    return boto3.client("sqs", **kwargs)


class Publisher:
    """Sends validated messages to the notification and workflow queues.

    The queue URLs come from the arguments, else from the environment
    (FBDI_NOTIFICATION_QUEUE_URL, FBDI_WORKFLOW_QUEUE_URL). ``sqs_client``
    is a boto3 SQS client; by default one is made on first use, in the
    queue URL's region (or, for a non-AWS URL such as the local stack's,
    with that URL's endpoint). A Publisher is safe to share between threads
    once its client exists (boto3 clients are).

    Every send validates first: a message the system would refuse raises
    InvalidMessage and nothing is sent. Sends return the SQS MessageId.
    The queues are standard queues: no MessageGroupId or deduplication id.
    """

    def __init__(self, notification_queue_url=None, workflow_queue_url=None, sqs_client=None):
        self.notification_queue_url = notification_queue_url or os.environ.get(ENV_NOTIFICATION_QUEUE_URL)
        self.workflow_queue_url = workflow_queue_url or os.environ.get(ENV_WORKFLOW_QUEUE_URL)
        self._client = sqs_client
        self._lock = threading.Lock()

    def _sqs(self, url):
        with self._lock:
            if self._client is None:
                self._client = _client_for(url)
            return self._client

    def _send(self, url, env, body):
        if not url:
            raise ConfigurationError(f"no queue URL: pass it to Publisher or set {env}")
        out = self._sqs(url).send_message(QueueUrl=url, MessageBody=body)
        return out["MessageId"]

    # --- the two queues, whole messages ----------------------------------

    def publish(self, message):
        """Sends a notification queue message (a dict, docs/protocol.md
        "Notification queue") and returns its MessageId."""
        body = _encode(message)
        check_notification(json.loads(body), body.encode("utf-8"))
        return self._send(self.notification_queue_url, ENV_NOTIFICATION_QUEUE_URL, body)

    def submit(self, message):
        """Sends a workflow queue message (a dict with kind, transaction_id,
        user_id, lines and optional options) and returns its MessageId."""
        body = _encode(message)
        check_workflow(json.loads(body))
        return self._send(self.workflow_queue_url, ENV_WORKFLOW_QUEUE_URL, body)

    def submit_budget_transfer(self, transaction_id=None, lines=None, options=None, user_id=None):
        """Submits a budget transfer: lines are dicts with the fields of
        docs/protocol.md "budget_transfer lines". user_id defaults to the
        set_notification_user user."""
        return self.submit(_transfer("budget_transfer", transaction_id, lines, options, user_id))

    def submit_journal_import(self, transaction_id=None, lines=None, options=None, user_id=None):
        """Submits a journal import: lines are dicts with the fields of
        docs/protocol.md "journal_import lines"."""
        return self.submit(_transfer("journal_import", transaction_id, lines, options, user_id))

    # --- the calls of task_notifications ---------------------------------

    def send_upload_started(self, user_id=None, transaction_id=None, message=None):
        """oracle_upload_started for transaction_id."""
        return self.publish(_compact(_users(user_id), type="oracle_upload_started",
                                     transaction_id=_text(transaction_id), message=message))

    def send_progress_notification(self, user_id=None, transaction_id=None, step=None, status=None, message=None,
                                   step_number=None, total_steps=TOTAL_STEPS):
        """oracle_upload_progress: step (a name), status (processing,
        completed or failed) and message. step_number defaults to the
        number of a known step name (STEP_NUMBERS)."""
        if step_number is None:
            step_number = STEP_NUMBERS.get(step)
        return self.publish(_compact(_users(user_id), type="oracle_upload_progress",
                                     transaction_id=_text(transaction_id), step=step, step_number=step_number,
                                     total_steps=total_steps, status=status, message=message))

    def send_upload_completed(self, user_id=None, transaction_id=None, message=None, result_path=None):
        """oracle_upload_completed, with success true."""
        return self.publish(_compact(_users(user_id), type="oracle_upload_completed",
                                     transaction_id=_text(transaction_id), success=True,
                                     result_path=result_path, message=message))

    def send_upload_failed(self, user_id=None, transaction_id=None, error=None, message=None):
        """oracle_upload_failed: error says why (required)."""
        return self.publish(_compact(_users(user_id), type="oracle_upload_failed",
                                     transaction_id=_text(transaction_id), error=error, message=message))

    def send_generic_message(self, user_id=None, message=None, data=None, category=None, critical=None):
        """A general notification: message (required) and data (a dict);
        category (default general) for the users' preferences and inbox
        filters; critical=True makes it impossible to mute."""
        return self.publish(_compact(_users(user_id), type="notification", message=message, data=data,
                                     category=category, critical=critical))

    def set_user_profile(self, user_id=None, email=None, locale=None):
        """user_profile: the address e-mail goes to and its locale. Only
        upstream systems send an address; a browser never can."""
        return self.publish(_compact(_users(user_id), type="user_profile", email=email, locale=locale))

    def set_preferences(self, user_id=None, categories=None):
        """set_preferences: channels per category, e.g.
        {"general": {"in_app": True, "email": False}}; what it does not name
        is left as it was."""
        return self.publish(_compact(_users(user_id), type="set_preferences", categories=categories))

    def send_workflow_notification(self, user_id=None, type="notification", data=None):
        """A typed message, as the old call sent one. For the system's
        types (notification, oracle_upload_*) the keys of data are the
        message's fields (transaction_id, step, ...; for notification,
        message and data). Any other type becomes a notification whose
        message is data["message"] (else the type) and whose data is the
        rest of data plus "notification_type": type."""
        data = dict(data or {})
        if type == "notification":
            return self.send_generic_message(user_id, data.pop("message", None), data.pop("data", data))
        if type in _TYPES:
            if "transaction_id" in data:
                data["transaction_id"] = _text(data["transaction_id"])
            return self.publish({**_users(user_id), "type": type, **data})
        message = data.pop("message", None) or str(type)
        return self.send_generic_message(user_id, message, {**data, "notification_type": type})


def _text(value):
    # The notification queue takes a transaction id as a string; the old
    # calls were given integer primary keys too.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _users(user_id):
    """The user fields of a message: user_id, or user_ids for a list or
    tuple, else the set_notification_user user."""
    if user_id is None:
        user_id = _user.get()
    if isinstance(user_id, (list, tuple, set, frozenset)):
        return {"user_ids": list(user_id)}
    return {"user_id": user_id}


def _compact(users, **fields):
    return {**users, **{k: v for k, v in fields.items() if v is not None}}


def _transfer(kind, transaction_id, lines, options, user_id):
    if user_id is None:
        user_id = _user.get()
    return _compact({}, kind=kind, transaction_id=transaction_id, user_id=user_id, lines=lines, options=options)


_default = None
_default_lock = threading.Lock()


def get_publisher():
    """Returns the default Publisher of the module-level functions, made on
    first use from the environment."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Publisher()
        return _default


def set_publisher(publisher):
    """Makes publisher the default of the module-level functions (None:
    make a new one from the environment on next use)."""
    global _default
    with _default_lock:
        _default = publisher
