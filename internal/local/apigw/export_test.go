package apigw

import "time"

// SetWriteTimeout changes how long a message to a client may take, so that
// tests of the write timeout need not wait 10 seconds. Call it before the
// first connection.
func SetWriteTimeout(g *Gateway, d time.Duration) { g.writeTimeout = d }
