// Package schemas holds the JSON Schemas (draft 2020-12) of the messages the
// system exchanges, for the systems that talk to it and for tooling:
//
//   - workflow-message.schema.json: a body on the workflow queue (a budget
//     transfer or journal import request, or the server's poll continuation);
//   - notification-message.schema.json: a body on the notification queue;
//   - client-message.schema.json: what a browser sends on the WebSocket;
//   - server-message.schema.json: what the server sends a browser.
//
// Each schema's $id is BaseURL followed by its file name. The schemas are as
// strict as the Go validators (internal/workflow, internal/notifier,
// internal/route) and no stricter, and the tests of this package hold them to
// that: every fixture and golden message validates, and every message of a
// table of bad ones is refused by both the schema and the Go code, naming the
// same field. What a schema cannot say (rules across lines, how a number is
// written, sizes in bytes) is in the schemas' descriptions.
//
// No Lambda function imports it; package publisher does, to check what an
// upstream program sends before it is sent.
package schemas

import "embed"

// BaseURL is the prefix of every schema's $id.
const BaseURL = "https://github.com/finance/fbdi-notify/schemas/"

// File names of the schemas in FS.
const (
	WorkflowMessage     = "workflow-message.schema.json"
	NotificationMessage = "notification-message.schema.json"
	ClientMessage       = "client-message.schema.json"
	ServerMessage       = "server-message.schema.json"
)

// FS holds the schema files, named as the constants above.
//
//go:embed *.json
var FS embed.FS
