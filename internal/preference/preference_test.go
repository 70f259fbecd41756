package preference_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/notification"
	"github.com/finance/fbdi-notify/internal/preference"
)

func TestDecide(t *testing.T) {
	defaults, err := preference.ParseDefaults(`{"fbdi":{"email":true},"quiet":{"in_app":false},"*":{"in_app":true,"email":false}}`)
	if err != nil {
		t.Fatal(err)
	}
	on, off := preference.On(true), preference.On(false)
	withAddress := preference.Profile{Email: "ann@example.com"}
	tests := []struct {
		name  string
		prefs preference.Preferences
		note  notification.Notification
		want  preference.Channels
	}{
		{name: "default of the category", prefs: preference.Preferences{Profile: withAddress},
			note: note(notification.TypeUploadCompleted, notification.CategoryFBDI, false), want: preference.Channels{InApp: true, Email: true}},
		{name: "default of every other category", note: note(notification.TypeNotification, "ap", false),
			want: preference.Channels{InApp: true}},
		{name: "no category is general", prefs: preference.Preferences{Categories: map[string]preference.Change{"general": {InApp: off}}},
			note: note(notification.TypeNotification, "", false), want: preference.Channels{}},
		{name: "muted by the operator", note: note(notification.TypeNotification, "quiet", false), want: preference.Channels{}},
		{name: "user overrides one channel", prefs: preference.Preferences{Profile: withAddress,
			Categories: map[string]preference.Change{"fbdi": {InApp: off}}},
			note: note(notification.TypeUploadCompleted, "fbdi", false), want: preference.Channels{InApp: false, Email: true}},
		{name: "critical is posted when muted", prefs: preference.Preferences{Profile: withAddress,
			Categories: map[string]preference.Change{"fbdi": {InApp: off, Email: off}}},
			note: note(notification.TypeUploadFailed, "fbdi", true), want: preference.Channels{InApp: true, Email: false}},
		{name: "critical e-mail follows the channel", prefs: preference.Preferences{Profile: withAddress,
			Categories: map[string]preference.Change{"ap": {InApp: off, Email: on}}},
			note: note(notification.TypeNotification, "ap", true), want: preference.Channels{InApp: true, Email: true}},
		{name: "no e-mail without an address", prefs: preference.Preferences{Categories: map[string]preference.Change{"ap": {Email: on}}},
			note: note(notification.TypeNotification, "ap", false), want: preference.Channels{InApp: true}},
		{name: "no e-mail to a bounced address", prefs: preference.Preferences{Profile: preference.Profile{Email: "a@example.com", Bounced: true}},
			note: note(notification.TypeUploadFailed, "fbdi", true), want: preference.Channels{InApp: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaults.Decide(tt.prefs, tt.note); got != tt.want {
				t.Fatalf("Decide = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func note(typ, category string, critical bool) notification.Notification {
	return notification.Notification{Type: typ, Category: category, Critical: critical}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]preference.Channels // All()
		wantErr string
	}{
		{name: "empty", in: "", want: map[string]preference.Channels{"*": preference.InAppOnly}},
		{name: "omitted channels are in-app only", in: `{"fbdi":{"email":true},"general":{}}`,
			want: map[string]preference.Channels{"*": preference.InAppOnly, "fbdi": {InApp: true, Email: true}, "general": preference.InAppOnly}},
		{name: "wildcard", in: `{"*":{"in_app":false}}`, want: map[string]preference.Channels{"*": {}}},
		{name: "not an object", in: `[1]`, wantErr: "preference defaults: preference: invalid: categories must be an object"},
		{name: "bad category", in: `{"FBDI":{"in_app":true}}`, wantErr: "categories.FBDI: a category is"},
		{name: "unknown channel", in: `{"fbdi":{"push":true}}`, wantErr: "categories.fbdi.push: unknown channel; want in_app or email"},
		{name: "not a boolean", in: `{"fbdi":{"email":"true"}}`, wantErr: "categories.fbdi.email must be true or false"},
		{name: "channels not an object", in: `{"fbdi":true}`, wantErr: "categories.fbdi must be an object of channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := preference.ParseDefaults(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, preference.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := d.All()
			if len(got) != len(tt.want) {
				t.Fatalf("All() = %v; want %v", got, tt.want)
			}
			for c, ch := range tt.want {
				if got[c] != ch {
					t.Errorf("All()[%s] = %+v; want %+v", c, got[c], ch)
				}
			}
		})
	}
}

func TestParseChangesLimits(t *testing.T) {
	body := `{`
	for i := range preference.MaxCategories + 1 {
		if i > 0 {
			body += ","
		}
		body += `"c` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":{"in_app":true}`
	}
	body += `}`
	if _, err := preference.ParseChanges([]byte(body)); !errors.Is(err, preference.ErrInvalid) {
		t.Fatalf("%d categories: error %v; want ErrInvalid", preference.MaxCategories+1, err)
	}
}
