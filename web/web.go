// Package web holds the browser side that the local stack serves: the test
// page at /, the browser library under /lib/ (notifications.js, its
// TypeScript declarations, the <fbdi-notification-center> element, and the
// React and Vue bindings), the examples under /examples/, and, from
// web/node_modules, the few pinned third-party files the examples import
// under /vendor/.
package web

import "embed"

// Files is the page, the library and the examples, served as they are.
//
//go:embed index.html app.js app.css lib/*.js lib/*.d.ts examples/*.html examples/*.css
var Files embed.FS
