package main

import (
	"maps"
	"testing"

	fbdinotify "github.com/finance/fbdi-notify"
	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// TestRouteThrottles: the local gateway throttles each message route of the
// template as its stage does (the default route settings: burst 500, 1,000
// per second), and leaves $connect and $disconnect alone.
func TestRouteThrottles(t *testing.T) {
	tmpl, err := samtemplate.Parse(fbdinotify.Template)
	if err != nil {
		t.Fatal(err)
	}
	var routes []apigw.Route
	for _, r := range tmpl.Routes() {
		routes = append(routes, apigw.Route{Key: r.Key})
	}
	got := routeThrottles(tmpl.Stage(), routes)
	stage := apigw.Throttle{Burst: 500, Rate: 1000}
	want := map[string]apigw.Throttle{}
	for _, key := range []string{"$default", "ping", "resume", "history", "mark_read", "status"} {
		want[key] = stage
	}
	if !maps.Equal(got, want) {
		t.Errorf("routeThrottles = %v\nwant %v", got, want)
	}

	// A route's own settings win over the stage's.
	st := samtemplate.StageSpec{ThrottlingBurstLimit: 5, ThrottlingRateLimit: 10,
		RouteSettings: map[string]samtemplate.RouteSettings{"resume": {ThrottlingBurstLimit: 1, ThrottlingRateLimit: 2}}}
	got = routeThrottles(st, []apigw.Route{{Key: "ping"}, {Key: "resume"}, {Key: apigw.RouteConnect}})
	if want := map[string]apigw.Throttle{"ping": {Burst: 5, Rate: 10}, "resume": {Burst: 1, Rate: 2}}; !maps.Equal(got, want) {
		t.Errorf("with route settings: %v, want %v", got, want)
	}
}
