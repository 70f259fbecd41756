"""Validation of queue messages against the system's JSON Schemas.

The schemas are copies of the repository's schemas/ directory, shipped in
the package (tests/test_schemas.py keeps them equal byte for byte). Beyond
the schemas this checks what their descriptions say a schema cannot: user
ids counted in bytes, step_number <= total_steps, and the body's size.
"""

import functools
import json
import unicodedata
from importlib import resources

import jsonschema

NOTIFICATION_SCHEMA = "notification-message.schema.json"
WORKFLOW_SCHEMA = "workflow-message.schema.json"

#: The largest notification queue body the system accepts, in bytes.
MAX_NOTIFICATION_BYTES = 131072
#: The longest user id sent as a string, in bytes of UTF-8.
MAX_USER_ID_BYTES = 256
#: The largest magnitude of a user id sent as a number (2**53 - 1).
MAX_USER_ID_NUMBER = 2**53 - 1


class InvalidMessage(ValueError):
    """A message the system would refuse; it was not sent.

    ``field`` is the field at fault as a path (``lines[1].amount``), or ""
    for the message as a whole; ``reason`` says what is wrong with it.
    """

    def __init__(self, field, reason):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


@functools.lru_cache(maxsize=None)
def _validator(name):
    text = resources.files(__package__).joinpath("schemas", name).read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _path(parts):
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _problem(error):
    """Returns (field, reason) for one jsonschema error."""
    path = list(error.absolute_path)
    if "propertyNames" in error.relative_schema_path:
        # propertyNames validates each name on its own: the instance is the name.
        return _path(path + [error.instance]), "is not a field of this message's type"
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        return _path(path + missing[:1]), "is required"
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in known)
        return _path(path + extra[:1]), "is not a field of this message"
    return _path(path), error.message


def check_schema(name, message):
    """Raises InvalidMessage naming the first field (in path order) that the
    schema ``name`` refuses in ``message``, a decoded JSON value."""
    # Errors of an anyOf come last: their branches' errors name no one field.
    errors = sorted(_validator(name).iter_errors(message), key=lambda e: (bool(e.context), _problem(e)[0]))
    if errors:
        raise InvalidMessage(*_problem(errors[0]))


def check_user_id(field, value):
    """Raises InvalidMessage unless value is a user id: a string (not blank,
    no control characters, at most 256 bytes) or a whole number within
    +/-(2**53 - 1)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidMessage(field, f"got {type(value).__name__}; want a string or a whole number")
    if isinstance(value, int):
        if abs(value) > MAX_USER_ID_NUMBER:
            raise InvalidMessage(field, "a number larger than 2**53 - 1; send it as a string")
        return
    if value.strip() == "" or all(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        raise InvalidMessage(field, "empty or blank")
    if len(value.encode("utf-8")) > MAX_USER_ID_BYTES:
        raise InvalidMessage(field, f"longer than {MAX_USER_ID_BYTES} bytes")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidMessage(field, "contains a control character")


def check_notification(message, body):
    """Validates a notification queue message and its encoded body (bytes)."""
    if not isinstance(message, dict):
        raise InvalidMessage("", "a notification must be a JSON object")
    has_one, has_many = message.get("user_id") is not None, message.get("user_ids") is not None
    if has_one and has_many:
        raise InvalidMessage("user_ids", "both user_id and user_ids are set; use one")
    if has_one:
        check_user_id("user_id", message["user_id"])
    elif not has_many:
        raise InvalidMessage("user_id", "is required (or user_ids)")
    elif isinstance(message["user_ids"], (list, tuple)):
        for i, u in enumerate(message["user_ids"]):
            check_user_id(f"user_ids[{i}]", u)
    check_schema(NOTIFICATION_SCHEMA, message)
    step, total = message.get("step_number"), message.get("total_steps")
    if isinstance(step, int) and isinstance(total, int) and step > total:
        raise InvalidMessage("step_number", f"{step} is more than total_steps {total}")
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise InvalidMessage("", f"body is {len(body)} bytes; a notification must fit in {MAX_NOTIFICATION_BYTES}")


def check_workflow(message):
    """Validates a workflow queue message (a transfer request)."""
    if not isinstance(message, dict):
        raise InvalidMessage("", "a workflow message must be a JSON object")
    if "action" in message:
        raise InvalidMessage("action", "is the worker's own continuation; upstream systems never send it")
    if "user_id" in message:
        check_user_id("user_id", message["user_id"])
    check_schema(WORKFLOW_SCHEMA, message)
