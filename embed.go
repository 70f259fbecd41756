// Package fbdinotify embeds the files that define the system as a whole, so
// that the local stack runs from the very same definitions that SAM deploys:
// the template (routes, queues, tables) and the sample upstream messages.
package fbdinotify

import "embed"

// Template is template.yaml.
//
//go:embed template.yaml
var Template []byte

// Samples holds events/messages/*.json, the sample messages of both queues.
//
//go:embed events/messages/*.json
var Samples embed.FS
