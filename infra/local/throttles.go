package main

import (
	"github.com/finance/fbdi-notify/internal/local/apigw"
	"github.com/finance/fbdi-notify/internal/local/samtemplate"
)

// routeThrottles returns the template stage's throttling of each message
// route, as API Gateway applies it: the route's own settings when it has
// them, else the stage's default route settings. $connect and $disconnect
// are not throttled locally: the local benchmarks open 1,000 connections at
// once, where the deployed stage lets $connect burst to 100.
func routeThrottles(stage samtemplate.StageSpec, routes []apigw.Route) map[string]apigw.Throttle {
	out := map[string]apigw.Throttle{}
	for _, rt := range routes {
		if rt.Key == apigw.RouteConnect || rt.Key == apigw.RouteDisconnect {
			continue
		}
		t := apigw.Throttle{Burst: stage.ThrottlingBurstLimit, Rate: stage.ThrottlingRateLimit}
		if rs, ok := stage.RouteSettings[rt.Key]; ok && (rs.ThrottlingBurstLimit > 0 || rs.ThrottlingRateLimit > 0) {
			t = apigw.Throttle{Burst: rs.ThrottlingBurstLimit, Rate: rs.ThrottlingRateLimit}
		}
		if t.Burst > 0 || t.Rate > 0 {
			out[rt.Key] = t
		}
	}
	return out
}
