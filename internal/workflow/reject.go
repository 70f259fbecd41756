package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/notification"
)

// reject records a message that could not be parsed. With a transaction ID
// it becomes a failed workflow (or, if that transaction exists with other
// content, a rejection on it); the user, when known, is told. It returns inv.
func (e *Engine) reject(ctx context.Context, inv *InvalidError, body []byte, d Delivery) error {
	log := lambdaenv.LoggerFrom(ctx, e.log).With("transaction_id", inv.TransactionID)
	log.Warn("invalid message", "reason", inv.Reason)
	fp := fingerprint(body)
	if inv.TransactionID == "" {
		if inv.UserID != "" {
			now := e.now()
			n := notification.UploadFailed("", "A transfer message was rejected", inv.Reason)
			n.Kind = noteKind(peekKind(body)) // "" when the body names no known kind
			if err := e.deliver(ctx, inv.UserID, n, now, ordRejected, fp); err != nil {
				log.Warn("rejection notification failed", "error", err)
			}
		}
		return inv
	}
	r := &run{e: e, ctx: ctx, d: d, log: log}
	for attempt := 1; ; attempt++ {
		err := r.rejectOnce(inv, body, fp)
		if !errors.Is(err, ErrVersion) || attempt == maxReloads {
			return err
		}
	}
}

func (r *run) rejectOnce(inv *InvalidError, body []byte, fp string) error {
	st, err := r.e.store.Get(r.ctx, inv.TransactionID)
	switch {
	case errors.Is(err, ErrNotFound):
		now := r.e.now()
		r.st = &State{TransactionID: inv.TransactionID, UserID: inv.UserID, Kind: peekKind(body), Fingerprint: fp,
			Status: StatusFailed, Step: 1, Error: clip(inv.Reason, maxReason), Invalid: true,
			CreatedAt: now, EndedAt: now,
			Steps: []StepLog{{Number: 1, Name: StepPreparingData, Status: notification.StatusFailed,
				Message: "The message was rejected: " + clip(inv.Reason, maxReason), EndedAt: now}}}
		r.touch(now)
		if err := r.e.store.Create(r.ctx, r.st); err != nil {
			if errors.Is(err, ErrExists) {
				return fmt.Errorf("%w: %w", ErrVersion, err)
			}
			return err
		}
		r.e.ended(r.st, OutcomeFailed)
		if err := r.ensureFinal(); err != nil {
			return err
		}
		return inv
	case err != nil:
		return err
	}
	r.st = st
	if st.Fingerprint == fp { // this very message again
		if err := r.ensureFinal(); err != nil {
			return err
		}
		return inv
	}
	return r.rejectConflict(inv.UserID, fp, inv.Reason)
}

// rejectConflict records, on the existing workflow r.st, that a message with
// fingerprint fp from userID was refused for reason, tells that user, and
// returns the *InvalidError to dead-letter the message. The workflow itself
// is not changed otherwise.
func (r *run) rejectConflict(userID, fp, reason string) error {
	st := r.st
	var rej *Rejection
	for i := range st.Rejections {
		if st.Rejections[i].Fingerprint == fp {
			rej = &st.Rejections[i]
		}
	}
	if rej == nil {
		st.Rejections = append(st.Rejections, Rejection{At: r.e.now(), MessageID: r.d.MessageID, Fingerprint: fp,
			Reason: clip(reason, maxReason)})
		if n := len(st.Rejections); n > maxRejections {
			st.Rejections = append([]Rejection(nil), st.Rejections[n-maxRejections:]...)
		}
		r.keepDue = true // a refused message does not move the workflow on
		err := r.save()
		r.keepDue = false
		if err != nil {
			return err
		}
		rej = &st.Rejections[len(st.Rejections)-1]
	}
	r.log.Warn("conflicting message rejected", "reason", reason)
	n := notification.UploadFailed(st.TransactionID,
		fmt.Sprintf("A message for transaction %s was rejected", st.TransactionID), reason)
	n.Kind = noteKind(st.Kind) // the existing workflow's
	if err := r.e.deliver(r.ctx, userID, n, rej.At, ordRejected, fp); err != nil {
		r.log.Warn("rejection notification failed", "error", err)
	}
	return &InvalidError{Reason: reason, TransactionID: st.TransactionID, UserID: userID}
}

// peekKind returns the kind a body names, whatever it is, for the record of
// an invalid message.
func peekKind(body []byte) Kind {
	var v struct {
		Kind any `json:"kind"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	s, _ := v.Kind.(string)
	return Kind(clip(s, 40))
}
