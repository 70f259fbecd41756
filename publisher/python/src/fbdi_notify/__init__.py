"""Send notifications and FBDI transfers to the FBDI notification system.

A drop-in replacement for the Django/Celery module ``task_notifications``:
the same calls, which now send a validated message to the system's SQS
notification queue, plus ``submit_budget_transfer`` and
``submit_journal_import`` for the workflow queue. docs/migration.md in the
repository maps every old call and setting.

    from fbdi_notify import set_notification_user, send_progress_notification

    set_notification_user(request.user.pk)
    send_progress_notification(transaction_id="602", step="Upload to UCM",
                               status="processing", message="Uploading")

The module-level functions use a default Publisher configured from
FBDI_NOTIFICATION_QUEUE_URL and FBDI_WORKFLOW_QUEUE_URL (see set_publisher).
A message the system would refuse raises InvalidMessage, naming the field,
and nothing is sent.
"""

from ._publisher import (
    ENV_NOTIFICATION_QUEUE_URL,
    ENV_WORKFLOW_QUEUE_URL,
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PROCESSING,
    STEP_NUMBERS,
    TOTAL_STEPS,
    ConfigurationError,
    Publisher,
    get_publisher,
    reset_notification_user,
    set_notification_user,
    set_publisher,
)
from ._validation import InvalidMessage

__all__ = [
    "ENV_NOTIFICATION_QUEUE_URL", "ENV_WORKFLOW_QUEUE_URL", "STATUS_COMPLETED", "STATUS_FAILED",
    "STATUS_PROCESSING", "STEP_NUMBERS", "TOTAL_STEPS", "ConfigurationError", "InvalidMessage", "Publisher",
    "get_publisher", "set_publisher", "set_notification_user", "reset_notification_user", "publish", "submit",
    "submit_budget_transfer", "submit_journal_import", "send_upload_started", "send_progress_notification",
    "send_upload_completed", "send_upload_failed", "send_generic_message", "send_workflow_notification",
    "set_user_profile", "set_preferences",
]


def _delegate(name):
    method = getattr(Publisher, name)

    def call(*args, **kwargs):
        return getattr(get_publisher(), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    return call


publish = _delegate("publish")
submit = _delegate("submit")
submit_budget_transfer = _delegate("submit_budget_transfer")
submit_journal_import = _delegate("submit_journal_import")
send_upload_started = _delegate("send_upload_started")
send_progress_notification = _delegate("send_progress_notification")
send_upload_completed = _delegate("send_upload_completed")
send_upload_failed = _delegate("send_upload_failed")
send_generic_message = _delegate("send_generic_message")
send_workflow_notification = _delegate("send_workflow_notification")
set_user_profile = _delegate("set_user_profile")
set_preferences = _delegate("set_preferences")
