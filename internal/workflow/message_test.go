package workflow

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	budget, err := os.ReadFile("testdata/budget_transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    string
		wantErr string // substring of the reason; "" for success
		wantTx  string // transaction ID of the request, poll or error
		wantUsr string
		poll    bool
	}{
		{name: "budget transfer testdata", body: string(budget), wantTx: "602", wantUsr: "123"},
		{name: "integer ids", body: `{"kind":"journal_import","transaction_id":603,"user_id":7,"lines":[]}`,
			wantTx: "603", wantUsr: "7"},
		{name: "poll", body: `{"action":"poll","transaction_id":"602","seq":3}`, wantTx: "602", poll: true},
		{name: "not json", body: `not json`, wantErr: "not a JSON object"},
		{name: "json array", body: `[1,2]`, wantErr: "not a JSON object"},
		{name: "null", body: `null`, wantErr: "not a JSON object"},
		{name: "missing transaction", body: `{"kind":"budget_transfer","user_id":"1","lines":[]}`,
			wantErr: "transaction_id is required", wantUsr: "1"},
		{name: "fractional transaction", body: `{"kind":"budget_transfer","transaction_id":6.5,"user_id":"1","lines":[]}`,
			wantErr: "transaction_id must be a string or an integer", wantUsr: "1"},
		{name: "blank user", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":"  ","lines":[]}`,
			wantErr: "invalid user id: empty or blank", wantTx: "9"},
		{name: "user id in exponent notation", body: `{"kind":"journal_import","transaction_id":"9","user_id":1.23e2,"lines":[]}`,
			wantTx: "9", wantUsr: "123"},
		{name: "fractional user", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":12.5,"lines":[]}`,
			wantErr: "invalid user id: 12.5 is not a whole number", wantTx: "9"},
		{name: "control character in id", body: `{"kind":"budget_transfer","transaction_id":"a\nb","user_id":"1","lines":[]}`,
			wantErr: "control characters", wantUsr: "1"},
		{name: "id too long", body: `{"kind":"budget_transfer","transaction_id":"` + strings.Repeat("x", 129) + `","user_id":"1","lines":[]}`,
			wantErr: "longer than 128", wantUsr: "1"},
		{name: "unknown kind", body: `{"kind":"payroll","transaction_id":"9","user_id":"1","lines":[]}`,
			wantErr: `unknown kind "payroll"`, wantTx: "9", wantUsr: "1"},
		{name: "missing kind", body: `{"transaction_id":"9","user_id":"1","lines":[]}`,
			wantErr: "kind is required", wantTx: "9", wantUsr: "1"},
		{name: "lines not an array", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":"1","lines":{}}`,
			wantErr: "lines must be a JSON array", wantTx: "9", wantUsr: "1"},
		{name: "unknown option", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":"1","lines":[],"options":{"ledgerid":1}}`,
			wantErr: `unknown option "ledgerid"`, wantTx: "9", wantUsr: "1"},
		{name: "option of the wrong type", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":"1","lines":[],"options":{"ledger_id":true}}`,
			wantErr: "options must be an object of strings or numbers", wantTx: "9", wantUsr: "1"},
		{name: "unknown field", body: `{"kind":"budget_transfer","transaction_id":"9","user_id":"1","lines":[],"extra":1}`,
			wantErr: `unknown field "extra"`, wantTx: "9", wantUsr: "1"},
		{name: "poll with unknown action", body: `{"action":"cancel","transaction_id":"602","seq":3}`,
			wantErr: "unknown action", wantTx: "602"},
		{name: "poll without seq", body: `{"action":"poll","transaction_id":"602"}`,
			wantErr: "seq must be a positive integer", wantTx: "602"},
		{name: "poll with extra field", body: `{"action":"poll","transaction_id":"602","seq":1,"kind":"x"}`,
			wantErr: `unknown field "kind"`, wantTx: "602"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := ParseMessage([]byte(tt.body))
			if tt.wantErr != "" {
				var inv *InvalidError
				if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseMessage = %+v, %v; want an *InvalidError", msg, err)
				}
				if !strings.Contains(inv.Reason, tt.wantErr) {
					t.Errorf("reason %q does not contain %q", inv.Reason, tt.wantErr)
				}
				if inv.TransactionID != tt.wantTx || inv.UserID != tt.wantUsr {
					t.Errorf("ids = %q, %q; want %q, %q", inv.TransactionID, inv.UserID, tt.wantTx, tt.wantUsr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if tt.poll {
				if msg.Poll == nil || msg.Request != nil || msg.Poll.TransactionID != tt.wantTx || msg.Poll.Seq != 3 {
					t.Fatalf("got %+v, want poll 3 of %s", msg, tt.wantTx)
				}
				return
			}
			r := msg.Request
			if r == nil || msg.Poll != nil {
				t.Fatalf("got %+v, want a request", msg)
			}
			if r.TransactionID != tt.wantTx || r.UserID != tt.wantUsr || len(r.Fingerprint) != 64 {
				t.Errorf("request = %+v", r)
			}
		})
	}
}

func TestParseMessageOptions(t *testing.T) {
	msg, err := ParseMessage([]byte(`{"kind":"journal_import","transaction_id":"1","user_id":"2","lines":[],
		"options":{"ledger_id":300000046975971,"source":" Spreadsheet ","budget_import_params":"A,{budget_entry_name}","group_id":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := msg.Request.Options
	if o.LedgerID != "300000046975971" || o.Source != "Spreadsheet" || o.BudgetImportParams != "A,{budget_entry_name}" ||
		o.GroupID != "" {
		t.Fatalf("options = %+v", o)
	}
}

func TestFingerprint(t *testing.T) {
	base := `{"kind":"budget_transfer","transaction_id":"602","user_id":"123","lines":[{"amount":"1.50"}]}`
	tests := []struct {
		name string
		body string
		same bool
	}{
		{name: "identical", body: base, same: true},
		{name: "other spacing and key order", body: `{ "lines": [ {"amount": "1.50"} ], "user_id": "123",
			"transaction_id": "602", "kind": "budget_transfer" }`, same: true},
		{name: "integer ids", body: `{"kind":"budget_transfer","transaction_id":602,"user_id":123,"lines":[{"amount":"1.50"}]}`, same: true},
		{name: "user id in exponent notation", body: `{"kind":"budget_transfer","transaction_id":"602","user_id":1.23e2,"lines":[{"amount":"1.50"}]}`, same: true},
		{name: "other amount", body: `{"kind":"budget_transfer","transaction_id":"602","user_id":"123","lines":[{"amount":"1.5"}]}`},
		{name: "other user", body: `{"kind":"budget_transfer","transaction_id":"602","user_id":"124","lines":[{"amount":"1.50"}]}`},
		{name: "added option", body: `{"kind":"budget_transfer","transaction_id":"602","user_id":"123","lines":[{"amount":"1.50"}],"options":{"source":"x"}}`},
	}
	want := fingerprint([]byte(base))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fingerprint([]byte(tt.body)); (got == want) != tt.same {
				t.Errorf("same fingerprint = %v, want %v", got == want, tt.same)
			}
		})
	}
}

func TestEncodePollRoundTrip(t *testing.T) {
	msg, err := ParseMessage([]byte(encodePoll(`60"2`, 7)))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Poll == nil || msg.Poll.TransactionID != `60"2` || msg.Poll.Seq != 7 {
		t.Fatalf("round trip = %+v", msg.Poll)
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{`{"action":"poll","transaction_id":"1","seq":1}`, `{"kind":"budget_transfer"}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := ParseMessage(body)
		if err == nil && (msg.Request == nil) == (msg.Poll == nil) {
			t.Fatalf("exactly one of Request and Poll must be set: %+v", msg)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v is not ErrInvalid", err)
		}
		PeekIDs(body)
	})
}

func BenchmarkParseMessage(b *testing.B) {
	body, err := os.ReadFile("testdata/budget_transfer.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(body); err != nil {
			b.Fatal(err)
		}
	}
}
