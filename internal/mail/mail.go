// Package mail sends e-mail of the notifications a user did not see in the
// app (docs/design.md#e-mail), and texts critical ones when SMS is on.
//
// When the notifier stores a notification whose category takes e-mail for
// the user (preference.Defaults.Decide), Scheduler.Stored arms the user's
// row of the Ledger and, unless a message is pending already, sends one
// delayed message to the mail queue: after the digest window when no
// connection of the user was live, after the unread delay when one was.
// Nothing sleeps. Handler (MailFunction) takes the message, lists the user's
// notifications still unread since the last e-mail, keeps those whose
// category takes e-mail now, and sends one e-mail through SES (API v2): the
// notification's own template for one, a digest for several. The templates
// are embedded from templates/, in English.
//
// Handler also takes SES's bounce and complaint events (through SNS and a
// queue): a permanent bounce or a complaint marks the user's profile
// bounced (preference.Store.MarkBounced), which turns e-mail off until
// upstream sends another address.
package mail
