#!/usr/bin/env bash
# Dead-letter queues for an operator: read them with their reasons, and
# re-drive them to their source queue. Needs bash and the AWS CLI v1 (and the
# Python 3 it runs on, which formats the output); nothing else.
#
#   infra/ops/dlq.sh peek    ENV QUEUE   print every message, without taking it
#   infra/ops/dlq.sh redrive ENV QUEUE   move them back to the source queue
#   infra/ops/dlq.sh status  ENV QUEUE   the latest move tasks of that queue
#   infra/ops/dlq.sh cancel  ENV QUEUE   cancel the running move task
#
# ENV is local (the running `make run` stack, at LOCAL_HOST:LOCAL_PORT,
# default 127.0.0.1:3001) or a config env of samconfig.toml (dev, prod): its
# stack_name and region name the CloudFormation stack, whose queues are found
# with describe-stack-resource; credentials come from the usual AWS CLI
# sources (AWS_PROFILE, ...). QUEUE is workflow or notification.
#
# peek receives up to 10 messages at a time, each hidden for
# PEEK_VISIBILITY seconds (default 30) so that no page repeats one, then
# makes every one it received visible again. Each receive counts in a
# message's ApproximateReceiveCount, this listing's too. Nothing consumes
# the dead-letter queues, so hiding them for the listing takes nothing away.
#
# redrive moves the messages to the source queue named explicitly
# (DestinationArn): messages the functions dead-lettered themselves (with a
# failure_reason) were sent to the queue, not moved there by its redrive
# policy, and SQS cannot find their source on its own
# (CouldNotDetermineMessageSource). RATE=n caps it at n messages a second.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 3 ] || usage
cmd=$1 env=$2 which=$3
[ -n "$env" ] || usage
case $which in
  workflow) dlq_id=WorkflowDeadLetterQueue src_id=WorkflowQueue local_dlq=workflow-dlq local_src=workflow ;;
  notification | notifications) dlq_id=NotificationDeadLetterQueue src_id=NotificationQueue local_dlq=notifications-dlq local_src=notifications ;;
  *) echo "QUEUE must be workflow or notification, not '$which'" >&2; exit 2 ;;
esac
command -v aws >/dev/null 2>&1 || { echo "the AWS CLI is missing: pip install awscli" >&2; exit 1; }
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "$PY (the Python the AWS CLI v1 runs on) is missing" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)

aws_args=(--output json)
if [ "$env" = local ]; then
  endpoint="http://${LOCAL_HOST:-127.0.0.1}:${LOCAL_PORT:-3001}"
  aws_args+=(--endpoint-url "$endpoint" --region us-east-1)
  # The local stack checks no signature; never sign with real credentials.
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_PAGER=
  unset AWS_SESSION_TOKEN AWS_PROFILE
else
  # stack_name and region of [ENV.global.parameters] in samconfig.toml.
  setting() {
    awk -v sec="[$env.global.parameters]" -v key="$1" '
      $0 == sec { in_sec = 1; next }
      /^\[/ { in_sec = 0 }
      in_sec && $1 == key { v = $0; sub(/^[^=]*=[ \t]*"/, "", v); sub(/".*$/, "", v); print v; exit }
    ' "$root/samconfig.toml"
  }
  stack=$(setting stack_name)
  region=$(setting region)
  [ -n "$stack" ] || { echo "samconfig.toml has no [$env.global.parameters] stack_name" >&2; exit 2; }
  aws_args+=(--region "${region:-${AWS_REGION:-eu-west-1}}")
  export AWS_PAGER=
fi

awsq() { aws "${aws_args[@]}" "$@"; }

# queue_url LOGICAL_ID LOCAL_NAME: the queue's URL, locally by name, on AWS
# from the stack (the physical ID of an AWS::SQS::Queue is its URL).
queue_url() {
  if [ "$env" = local ]; then
    awsq sqs get-queue-url --queue-name "$2" --query QueueUrl --output text
  else
    awsq cloudformation describe-stack-resource --stack-name "$stack" --logical-resource-id "$1" \
      --query StackResourceDetail.PhysicalResourceId --output text
  fi
}
queue_arn() { awsq sqs get-queue-attributes --queue-url "$1" --attribute-names QueueArn --query Attributes.QueueArn --output text; }

dlq_url=$(queue_url "$dlq_id" "$local_dlq")
[ "$cmd" = peek ] || dlq_arn=$(queue_arn "$dlq_url")

# format MODE [ARGS]: the Python that reads the CLI's JSON.
format() {
  "$PY" - "$@" <<'PY'
import datetime, json, sys

def when(ms):
    if not ms:
        return "-"
    return datetime.datetime.fromtimestamp(int(ms) / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

def pages(paths):
    for p in paths:
        with open(p) as f:
            text = f.read().strip()
        if text:
            yield p, json.loads(text).get("Messages", [])

mode, args = sys.argv[1], sys.argv[2:]
if mode == "count":  # messages in one receive page
    print(sum(len(m) for _, m in pages(args)))
elif mode == "sources":  # the distinct DeadLetterQueueSourceArn of the pages
    seen = {m.get("Attributes", {}).get("DeadLetterQueueSourceArn") for _, ms in pages(args) for m in ms}
    print("\n".join(sorted(s for s in seen if s)))
elif mode == "entries":  # ChangeMessageVisibilityBatch entries: visible again now
    for _, ms in pages(args):
        print(json.dumps([{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(ms)]))
elif mode == "print":  # print ARN=N... -- PAGES
    cut = args.index("--")
    receives = dict(a.split("=", 1) for a in args[:cut])
    msgs = [m for _, ms in pages(args[cut + 1:]) for m in ms]
    for i, m in enumerate(msgs, 1):
        attrs, user = m.get("Attributes", {}), m.get("MessageAttributes", {})
        reason = user.get("failure_reason", {}).get("StringValue")
        source_id = user.get("source_message_id", {}).get("StringValue")
        source = attrs.get("DeadLetterQueueSourceArn")
        if reason is None and source:
            reason = ("moved by the redrive policy after %s receives; search the logs for message_id %s"
                      % (receives.get(source, "?"), m["MessageId"]))
        elif reason is None:
            reason = "(none: sent to the dead-letter queue without a reason)"
        print("--- message %d of %d ---" % (i, len(msgs)))
        print("message id:        %s" % m["MessageId"])
        print("sent:              %s" % when(attrs.get("SentTimestamp")))
        print("receive count:     %s" % attrs.get("ApproximateReceiveCount", "?"))
        print("failure_reason:    %s" % reason)
        print("source_message_id: %s" % (source_id or "-"))
        if source:
            print("moved from:        %s" % source)
        body = m.get("Body", "")
        try:
            body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
        print("body:")
        print("\n".join("  " + line for line in body.splitlines() or [""]))
    print("%d message(s) listed; they stay on the queue." % len(msgs))
elif mode == "tasks":  # ListMessageMoveTasks output
    with open(args[0]) as f:
        results = json.load(f).get("Results", [])
    if not results:
        print("no move task on this queue yet")
    for t in results:
        line = "%s  %-10s moved %s of %s" % (when(t.get("StartedTimestamp")), t.get("Status"),
                                              t.get("ApproximateNumberOfMessagesMoved", 0), t.get("ApproximateNumberOfMessagesToMove", "?"))
        if t.get("DestinationArn"):
            line += "  to " + t["DestinationArn"]
        if t.get("MaxNumberOfMessagesPerSecond"):
            line += "  at %s/s" % t["MaxNumberOfMessagesPerSecond"]
        if t.get("FailureReason"):
            line += "  failure: " + t["FailureReason"]
        if t.get("TaskHandle"):
            line += "\n  task handle: " + t["TaskHandle"]
        print(line)
elif mode == "running":  # the handle of the latest task if it runs
    with open(args[0]) as f:
        results = json.load(f).get("Results", [])
    if results and results[0].get("Status") == "RUNNING":
        print(results[0]["TaskHandle"])
PY
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status() {
  awsq sqs list-message-move-tasks --source-arn "$dlq_arn" --max-results "${1:-10}" >"$tmp/tasks.json"
  format tasks "$tmp/tasks.json"
}

case $cmd in
peek)
  vis=${PEEK_VISIBILITY:-30}
  echo "$which dead-letter queue ($env): $dlq_url"
  awsq sqs get-queue-attributes --queue-url "$dlq_url" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text |
    { read -r visible hidden; echo "about $visible message(s) visible, $hidden in flight"; }
  pages=()
  for ((i = 0; i < ${PEEK_MAX_PAGES:-100}; i++)); do
    page="$tmp/page.$i.json"
    # Long polling (1 s) asks every SQS host, so an empty page means empty.
    awsq sqs receive-message --queue-url "$dlq_url" --max-number-of-messages 10 --visibility-timeout "$vis" \
      --wait-time-seconds 1 --attribute-names All --message-attribute-names All >"$page"
    [ "$(format count "$page")" -gt 0 ] || break
    pages+=("$page")
  done
  receives=()
  if [ ${#pages[@]} -gt 0 ]; then
    while read -r src; do
      [ -n "$src" ] || continue
      url=$(awsq sqs get-queue-url --queue-name "${src##*:}" --queue-owner-aws-account-id "$(cut -d: -f5 <<<"$src")" \
        --query QueueUrl --output text 2>/dev/null) || continue
      policy=$(awsq sqs get-queue-attributes --queue-url "$url" --attribute-names RedrivePolicy \
        --query Attributes.RedrivePolicy --output text 2>/dev/null) || continue
      receives+=("$src=$(sed -E 's/.*"maxReceiveCount"[^0-9]*([0-9]+).*/\1/' <<<"$policy")")
    done < <(format sources "${pages[@]}")
    # Visible again at once, for the next listing or a redrive.
    for page in "${pages[@]}"; do
      format entries "$page" >"$page.entries"
      awsq sqs change-message-visibility-batch --queue-url "$dlq_url" --entries "file://$page.entries" >/dev/null
    done
  fi
  format print "${receives[@]}" -- "${pages[@]}"
  ;;
redrive)
  src_arn=$(queue_arn "$(queue_url "$src_id" "$local_src")")
  rate=()
  [ -z "${RATE:-}" ] || rate=(--max-number-of-messages-per-second "$RATE")
  handle=$(awsq sqs start-message-move-task --source-arn "$dlq_arn" --destination-arn "$src_arn" "${rate[@]}" \
    --query TaskHandle --output text)
  echo "redrive of $dlq_arn to $src_arn started"
  echo "task handle: $handle"
  status 1
  ;;
status)
  echo "move tasks of $dlq_arn, the latest first:"
  status 10
  ;;
cancel)
  awsq sqs list-message-move-tasks --source-arn "$dlq_arn" --max-results 1 >"$tmp/tasks.json"
  handle=$(format running "$tmp/tasks.json")
  [ -n "$handle" ] || { echo "no running move task on $dlq_arn" >&2; exit 1; }
  awsq sqs cancel-message-move-task --task-handle "$handle" \
    --query ApproximateNumberOfMessagesMoved --output text | { read -r n; echo "cancelled after $n message(s) moved"; }
  ;;
*) usage ;;
esac
