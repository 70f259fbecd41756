// Package web holds the browser test page that the local stack serves at /.
// The page is a working client of the WebSocket API: it connects with a dev
// token, resumes after the last notification it saw, and draws each upload's
// five steps as they arrive.
package web

import "embed"

// Files is the page and its assets, served as they are.
//
//go:embed index.html app.js app.css
var Files embed.FS
