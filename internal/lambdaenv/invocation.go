package lambdaenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// loggerKey is the context key of the logger of an invocation.
type loggerKey struct{}

// Invocation returns the logger of one invocation: log with the Lambda
// request id that ctx carries (aws_request_id; none outside Lambda) and
// attrs, such as the API Gateway ids of a WebSocket event. It also returns
// ctx carrying that logger, for the code the handler calls (LoggerFrom).
// A handler calls it once, first thing in Handle, and logs only through
// what it returns, so that every line of the invocation names it.
func Invocation(ctx context.Context, log *slog.Logger, attrs ...any) (context.Context, *slog.Logger) {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append([]any{slog.String("aws_request_id", lc.AwsRequestID)}, attrs...)
	}
	return With(ctx, log, attrs...)
}

// With returns log with attrs, and ctx carrying it: for the part of an
// invocation that handles one record of a batch (message_id), derived from
// the invocation's logger.
func With(ctx context.Context, log *slog.Logger, attrs ...any) (context.Context, *slog.Logger) {
	log = log.With(attrs...)
	return context.WithValue(ctx, loggerKey{}, log), log
}

// LoggerFrom returns the logger that Invocation or With put in ctx, or log
// if there is none. Code below a handler that logs, such as a Notifier or
// an Engine, logs through it, so that its lines carry the invocation's ids.
func LoggerFrom(ctx context.Context, log *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return log
}

// ErrPanic is the error that Recover sets when it stopped a panic.
var ErrPanic = errors.New("lambdaenv: panic")

// GoroutinePanic is a panic that code running work on goroutines (such as
// a fan-out) stopped on one of them, to panic with it again on the
// goroutine that waits for the work: there a deferred Recover can stop it,
// where on the other goroutine it would end the process. Recover logs the
// stack where it happened.
type GoroutinePanic struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the goroutine that panicked
}

// String returns the panic's value, as fmt.Sprint formats it.
func (p *GoroutinePanic) String() string { return fmt.Sprint(p.Value) }

// Recover is the rule for a panic while handling one record of a batch (an
// SQS message, a stream record). Deferred by the function that handles the
// record, it stops the panic, logs it once to log at error level with its
// value (panic) and stack (stack), and sets *err to an error wrapping
// ErrPanic. The handler then reports that record as a batch item failure,
// as for any other error, and goes on with the rest of the batch: SQS
// delivers the record again, and after maxReceiveCount deliveries its
// redrive policy moves it to the dead-letter queue.
//
// Recover must be called directly by defer:
//
//	defer lambdaenv.Recover(log, &err)
func Recover(log *slog.Logger, err *error) {
	p := recover()
	if p == nil {
		return
	}
	stack := debug.Stack()
	if gp, ok := p.(*GoroutinePanic); ok {
		stack = gp.Stack
	}
	log.Error("panic while handling a record", "panic", fmt.Sprint(p), "stack", string(stack))
	*err = fmt.Errorf("%w: %v", ErrPanic, p)
}
