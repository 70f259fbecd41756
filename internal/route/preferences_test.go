package route_test

import (
	"testing"

	"github.com/finance/fbdi-notify/internal/preference"
	"github.com/finance/fbdi-notify/internal/route"
)

func TestPreferences(t *testing.T) {
	defaults, err := preference.ParseDefaults(`{"general":{"in_app":true,"email":false},"fbdi":{"email":true},"*":{"in_app":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	const wantDefaults = `"defaults":{"*":{"in_app":true,"email":false},"fbdi":{"in_app":true,"email":true},"general":{"in_app":true,"email":false}}}`
	tests := []struct {
		name  string
		sends []string // in order; the last one's reply is checked
		want  string
	}{
		{name: "defaults only", sends: []string{`{"type":"preferences"}`},
			want: `{"type":"preferences","categories":{"fbdi":{"in_app":true,"email":true},"general":{"in_app":true,"email":false}},` + wantDefaults},
		{name: "set answers the preferences after it", sends: []string{`{"type":"set_preferences","categories":{"general":{"in_app":false}}}`},
			want: `{"type":"preferences","categories":{"fbdi":{"in_app":true,"email":true},"general":{"in_app":false,"email":false}},` + wantDefaults},
		{name: "a partial set keeps the rest", sends: []string{
			`{"type":"set_preferences","categories":{"ap":{"in_app":false,"email":true}}}`,
			`{"type":"set_preferences","categories":{"ap":{"in_app":true}}}`,
			`{"type":"preferences"}`},
			want: `{"type":"preferences","categories":{"ap":{"in_app":true,"email":true},"fbdi":{"in_app":true,"email":true},"general":{"in_app":true,"email":false}},` + wantDefaults},
		{name: "bad category name", sends: []string{`{"type":"set_preferences","categories":{"AP Invoices":{"in_app":false}}}`},
			want: `{"type":"error","code":"invalid_request","message":"categories.AP Invoices: a category is 1 to 40 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit"}`},
		{name: "unknown channel", sends: []string{`{"type":"set_preferences","categories":{"general":{"sms":true}}}`},
			want: `{"type":"error","code":"invalid_request","message":"categories.general.sms: unknown channel; want in_app or email"}`},
		{name: "channel not a boolean", sends: []string{`{"type":"set_preferences","categories":{"general":{"email":"yes"}}}`},
			want: `{"type":"error","code":"invalid_request","message":"categories.general.email must be true or false"}`},
		{name: "the wildcard is the operator's", sends: []string{`{"type":"set_preferences","categories":{"*":{"in_app":false}}}`},
			want: `{"type":"error","code":"invalid_request","message":"categories.*: a category is 1 to 40 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit"}`},
		{name: "no address from a browser", sends: []string{`{"type":"set_preferences","email":"x@example.com","categories":{}}`},
			want: `{"type":"error","code":"invalid_request","message":"\"email\": set_preferences takes only categories"}`},
		{name: "categories missing", sends: []string{`{"type":"set_preferences"}`},
			want: `{"type":"error","code":"invalid_request","message":"categories is required"}`},
		{name: "categories not an object", sends: []string{`{"type":"set_preferences","categories":["general"]}`},
			want: `{"type":"error","code":"invalid_request","message":"categories must be an object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := preference.NewMemoryStore()
			w := newWorld(t, func(c *route.MessageConfig) {
				c.Preferences = route.Preferences{Store: store, Defaults: defaults}
			})
			var got string
			for _, body := range tt.sends {
				got = w.send(t, body)
			}
			if got != tt.want {
				t.Fatalf("reply\n %s\nwant\n %s", got, tt.want)
			}
			p, err := store.Get(t.Context(), "7")
			if err != nil || len(p.Categories) != 0 {
				t.Errorf("user 7's preferences = %+v, %v; want none (the connection is 42's)", p, err)
			}
		})
	}
}

func TestPreferencesWithoutAStore(t *testing.T) {
	w := newWorld(t, nil)
	for _, body := range []string{`{"type":"preferences"}`, `{"type":"set_preferences","categories":{}}`} {
		if got := decodeReply(t, w.send(t, body)); got["code"] != route.CodeUnknownType {
			t.Errorf("%s answered %v; want unknown_type", body, got)
		}
	}
}
