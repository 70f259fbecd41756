package metrics

// The metrics the functions record, with the dimensions each carries besides
// Stack. template.yaml's alarms and dashboard and docs/operations.md name
// them; a test keeps the three in step.
const (
	// NotificationsStored counts notifications added to a user's history
	// (notify, worker, sweeper).
	NotificationsStored = "NotificationsStored"
	// NotificationsDelivered counts posts a connection accepted: live
	// notifications, welcomes and resume replays.
	NotificationsDelivered = "NotificationsDelivered"
	// NotificationsRetried counts notifications sent again later through
	// the queue because a post failed for a reason that may pass.
	NotificationsRetried = "NotificationsRetried"
	// NotificationsFailed counts notifications not delivered to some
	// connection for good, by Reason (DimReason), and in total (Stack
	// only) for the failure-rate alarm.
	NotificationsFailed = "NotificationsFailed"
	// ConnectionsGone counts connections found gone (410) and removed.
	ConnectionsGone = "ConnectionsGone"
	// FanoutLatency is the time from a notification's arrival on the queue
	// (SentTimestamp) to its last post, in milliseconds; for a notification
	// of the worker or the sweeper, from the call to its last post.
	FanoutLatency = "FanoutLatency"

	// EmailsSent counts e-mails sent, by Kind: "single" (one
	// notification) or "digest" (several).
	EmailsSent = "EmailsSent"
	// EmailsSuppressed counts addresses turned off by SES events, by
	// Reason: "bounce" or "complaint".
	EmailsSuppressed = "EmailsSuppressed"
	// SmsSent counts texts of critical notifications (SMS_ENABLED).
	SmsSent = "SmsSent"

	// ConnectsAccepted counts $connect requests let in.
	ConnectsAccepted = "ConnectsAccepted"
	// ConnectsRefused counts $connect requests refused, by Reason.
	ConnectsRefused = "ConnectsRefused"
	// MessagesRateLimited counts client messages refused with rate_limited.
	MessagesRateLimited = "MessagesRateLimited"
	// ConnectionsOpen is the number of connections open now, a gauge the
	// sweeper records on each run.
	ConnectionsOpen = "ConnectionsOpen"

	// Workflows counts workflows ended, by Outcome (completed, failed), and
	// by Kind and Outcome.
	Workflows = "Workflows"
	// StepDuration is the time a workflow step took, by Kind and Step, in
	// milliseconds.
	StepDuration = "StepDuration"
	// WorkflowsStranded counts workflows the sweeper found past their
	// deadline and ended.
	WorkflowsStranded = "WorkflowsStranded"

	// OracleErrors counts Oracle calls that failed, by Call.
	OracleErrors = "OracleErrors"
	// OracleRetries counts Oracle calls tried again after a refusal.
	OracleRetries = "OracleRetries"
	// WorkflowsParked counts workflows parked because the breaker is open.
	WorkflowsParked = "WorkflowsParked"
	// BreakerOpen is 1 each time a worker finds an Oracle instance's
	// breaker open and 0 each time it finds it closed: its Maximum over a
	// period says whether the breaker was open in it.
	BreakerOpen = "BreakerOpen"
)

// Dimension names besides Stack.
const (
	DimReason  = "Reason"
	DimOutcome = "Outcome"
	DimKind    = "Kind"
	DimStep    = "Step"
	DimCall    = "Call"
)

// Reason is the Reason dimension with value v.
func Reason(v string) Dim { return Dim{Name: DimReason, Value: v} }

// Outcome is the Outcome dimension with value v.
func Outcome(v string) Dim { return Dim{Name: DimOutcome, Value: v} }

// Kind is the Kind dimension with value v (a workflow kind).
func Kind(v string) Dim { return Dim{Name: DimKind, Value: v} }

// Step is the Step dimension with value v (a workflow step).
func Step(v string) Dim { return Dim{Name: DimStep, Value: v} }

// Call is the Call dimension with value v (an Oracle operation).
func Call(v string) Dim { return Dim{Name: DimCall, Value: v} }

// Names lists every metric above, for the tests that check the template and
// the docs name only metrics that exist.
var Names = []string{
	NotificationsStored, NotificationsDelivered, NotificationsRetried, NotificationsFailed, ConnectionsGone,
	FanoutLatency, ConnectsAccepted, ConnectsRefused, MessagesRateLimited, ConnectionsOpen, Workflows, StepDuration, WorkflowsStranded,
	OracleErrors, OracleRetries, WorkflowsParked, BreakerOpen, EmailsSent, EmailsSuppressed, SmsSent,
}
