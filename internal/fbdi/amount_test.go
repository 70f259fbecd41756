package fbdi

import (
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // normalized text when valid
		wantErr string
	}{
		{name: "integer", in: "650", want: "650"},
		{name: "negative", in: "-650", want: "-650"},
		{name: "decimals kept as given", in: "1234.50", want: "1234.50"},
		{name: "plus sign dropped", in: "+12.5", want: "12.5"},
		{name: "leading zeros dropped", in: "007.10", want: "7.10"},
		{name: "bare fraction", in: ".5", want: "0.5"},
		{name: "negative bare fraction", in: "-.25", want: "-0.25"},
		{name: "trailing decimal mark", in: "5.", want: "5"},
		{name: "negative zero", in: "-0", want: "0"},
		{name: "negative zero with decimals", in: "-0.00", want: "0.00"},
		{name: "ten decimals", in: "0.0000000001", want: "0.0000000001"},
		{name: "eighteen integer digits", in: "-999999999999999999.99", want: "-999999999999999999.99"},
		{name: "leading zeros do not count", in: "0000000000000000000001", want: "1"},

		{name: "empty", in: "", wantErr: `fbdi: amount is empty`},
		{name: "thousands separator", in: "1,000", wantErr: `fbdi: amount "1,000" is not a plain decimal number`},
		{name: "decimal comma", in: "12,50", wantErr: `fbdi: amount "12,50" is not a plain decimal number`},
		{name: "exponent", in: "1e3", wantErr: `fbdi: amount "1e3" is not a plain decimal number`},
		{name: "capital exponent", in: "1.5E+2", wantErr: `fbdi: amount "1.5E+2" is not a plain decimal number`},
		{name: "letters", in: "abc", wantErr: `fbdi: amount "abc" is not a plain decimal number`},
		{name: "NaN", in: "NaN", wantErr: `fbdi: amount "NaN" is not a plain decimal number`},
		{name: "infinity", in: "-Inf", wantErr: `fbdi: amount "-Inf" is not a plain decimal number`},
		{name: "hex", in: "0x10", wantErr: `fbdi: amount "0x10" is not a plain decimal number`},
		{name: "space", in: " 1", wantErr: `fbdi: amount " 1" is not a plain decimal number`},
		{name: "two decimal marks", in: "1.2.3", wantErr: `fbdi: amount "1.2.3" is not a plain decimal number`},
		{name: "sign only", in: "-", wantErr: `fbdi: amount "-" is not a plain decimal number`},
		{name: "decimal mark only", in: ".", wantErr: `fbdi: amount "." is not a plain decimal number`},
		{name: "two signs", in: "--1", wantErr: `fbdi: amount "--1" is not a plain decimal number`},
		{name: "currency symbol", in: "$5", wantErr: `fbdi: amount "$5" is not a plain decimal number`},
		{name: "non-ASCII digits", in: "١٢", wantErr: `fbdi: amount "١٢" is not a plain decimal number`},
		{name: "huge", in: "1234567890123456789", wantErr: `fbdi: amount "1234567890123456789" has more than 18 digits before the decimal mark`},
		{name: "too many decimals", in: "1.12345678901", wantErr: `fbdi: amount "1.12345678901" has more than 10 digits after the decimal mark`},
		{name: "long input is shortened in the message", in: strings.Repeat("9", 50) + "x",
			wantErr: `fbdi: amount "` + strings.Repeat("9", 40) + `..." is not a plain decimal number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAmount(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseAmount(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tt.in, err)
			}
			if got := a.String(); got != tt.want || !a.IsSet() {
				t.Errorf("ParseAmount(%q) = %q (set %v), want %q", tt.in, got, a.IsSet(), tt.want)
			}
		})
	}
}

func TestAmountRatIsExact(t *testing.T) {
	var total big.Rat
	for _, s := range []string{"0.1", "0.2", "-0.3"} {
		r, err := mustAmount(t, s).Rat()
		if err != nil {
			t.Fatal(err)
		}
		total.Add(&total, r)
	}
	if total.Sign() != 0 {
		t.Errorf("0.1 + 0.2 - 0.3 = %s, want exactly 0", total.RatString())
	}
	if _, err := (Amount{}).Rat(); err == nil {
		t.Error("Rat of an unset amount succeeded")
	}
	if _, err := rawAmount("1,000").Rat(); err == nil {
		t.Error(`Rat of "1,000" succeeded`)
	}
}

func TestAmountUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		set     bool
		str     string // String()
		valid   bool   // Rat succeeds
		wantErr bool
	}{
		{name: "number", json: `-650`, set: true, str: "-650", valid: true},
		{name: "number with decimals", json: `1234.50`, set: true, str: "1234.50", valid: true},
		{name: "number not rounded through float", json: `0.1000000001`, set: true, str: "0.1000000001", valid: true},
		{name: "large number not rounded", json: `123456789012345678.99`, set: true, str: "123456789012345678.99", valid: true},
		{name: "string", json: `"-650"`, set: true, str: "-650", valid: true},
		{name: "string with decimals", json: `"1234.50"`, set: true, str: "1234.50", valid: true},
		{name: "string is normalized", json: `"+007.5"`, set: true, str: "7.5", valid: true},
		{name: "null is unset", json: `null`},
		{name: "empty string is unset", json: `""`},
		{name: "exponent is kept for validation", json: `1e3`, set: true, str: "1e3"},
		{name: "thousands separator is kept for validation", json: `"1,000"`, set: true, str: "1,000"},
		{name: "boolean", json: `true`, wantErr: true},
		{name: "object", json: `{"value":1}`, wantErr: true},
		{name: "array", json: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				Amount Amount `json:"amount"`
			}
			err := json.Unmarshal([]byte(`{"amount":`+tt.json+`}`), &v)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoding %s succeeded", tt.json)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode %s: %v", tt.json, err)
			}
			if v.Amount.IsSet() != tt.set || v.Amount.String() != tt.str {
				t.Errorf("decoded %s = %q (set %v), want %q (set %v)", tt.json, v.Amount.String(), v.Amount.IsSet(), tt.str, tt.set)
			}
			if _, err := v.Amount.Rat(); (err == nil) != tt.valid {
				t.Errorf("Rat error = %v, want valid %v", err, tt.valid)
			}
		})
	}
}

func TestAmountMarshalJSON(t *testing.T) {
	type line struct {
		Debit  Amount `json:"debit,omitzero"`
		Credit Amount `json:"credit,omitzero"`
		Amount Amount `json:"amount"`
	}
	got, err := json.Marshal(line{Debit: mustAmount(t, "0"), Amount: rawAmount("1,000")})
	if err != nil {
		t.Fatal(err)
	}
	// An amount of 0 is set; an unset one is omitted; an invalid one keeps its text.
	if want := `{"debit":"0","amount":"1,000"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var back line
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Debit.IsSet() || back.Debit.String() != "0" || back.Credit.IsSet() || back.Amount.String() != "1,000" {
		t.Errorf("round trip = %+v", back)
	}
	null, _ := json.Marshal(struct{ A Amount }{})
	if string(null) != `{"A":null}` {
		t.Errorf("unset amount marshals to %s, want null", null)
	}
}

func TestParseInteger(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "plain", in: "602", want: "602"},
		{name: "leading zeros dropped", in: "007", want: "7"},
		{name: "ledger id", in: "300000046975971", want: "300000046975971"},
		{name: "eighteen digits", in: "999999999999999999", want: "999999999999999999"},
		{name: "empty", in: "", wantErr: "fbdi: number is empty"},
		{name: "zero", in: "0", wantErr: `fbdi: number "0" is not a positive whole number`},
		{name: "negative", in: "-1", wantErr: `fbdi: number "-1" is not a positive whole number`},
		{name: "decimal", in: "1.0", wantErr: `fbdi: number "1.0" is not a positive whole number`},
		{name: "exponent", in: "1e2", wantErr: `fbdi: number "1e2" is not a positive whole number`},
		{name: "letters", in: "abc", wantErr: `fbdi: number "abc" is not a positive whole number`},
		{name: "too many digits", in: "1234567890123456789", wantErr: `fbdi: number "1234567890123456789" has more than 18 digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseInteger(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseInteger(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseInteger(%q): %v", tt.in, err)
			}
			if n.String() != tt.want {
				t.Errorf("ParseInteger(%q) = %q, want %q", tt.in, n.String(), tt.want)
			}
			if v, err := n.Int64(); err != nil || big.NewInt(v).String() != tt.want {
				t.Errorf("Int64 = %d, %v; want %s", v, err, tt.want)
			}
		})
	}
}

func TestIntegerJSON(t *testing.T) {
	var v struct {
		A, B, C, D Integer
	}
	if err := json.Unmarshal([]byte(`{"A":602,"B":"0602","C":null,"D":1.5}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "602" || v.B.String() != "602" || v.C.IsSet() || v.D.String() != "1.5" {
		t.Errorf("decoded %+v", v)
	}
	if _, err := v.D.Int64(); err == nil {
		t.Error("Int64 of 1.5 succeeded")
	}
	if _, err := v.C.Int64(); err == nil {
		t.Error("Int64 of an unset number succeeded")
	}
	if err := json.Unmarshal([]byte(`{"A":false}`), &v); err == nil {
		t.Error("decoding false as a number succeeded")
	}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"A":"602","B":"602","C":null,"D":"1.5"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

func TestSegmentsJSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    Segments
		wantErr bool
	}{
		{name: "strings keep leading zeros", json: `["01","000"]`, want: Segments{"01", "000"}},
		{name: "numbers are written as given", json: `[10001, 5010016]`, want: Segments{"10001", "5010016"}},
		{name: "null and empty entries keep their place", json: `["10001", null, "", "5010016"]`, want: Segments{"10001", "", "", "5010016"}},
		{name: "null list", json: `null`, want: nil},
		{name: "boolean entry", json: `["1", true]`, wantErr: true},
		{name: "not a list", json: `"10001"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Segments
			err := json.Unmarshal([]byte(tt.json), &s)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decode %s error = %v, want error %v", tt.json, err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(s, tt.want) {
				t.Errorf("decode %s = %q, want %q", tt.json, s, tt.want)
			}
		})
	}
}

var plainDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,10})?$`)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"-650", "1234.50", "1,000", "1e3", "", "abc", ".5", "-0.00", "+007", "1.2.3",
		"999999999999999999.9999999999", "1234567890123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			if a.IsSet() {
				t.Fatalf("ParseAmount(%q) failed but returned a set amount", s)
			}
			return
		}
		norm := a.String()
		if !plainDecimal.MatchString(norm) || norm == "-0" || strings.HasPrefix(norm, "-0") && strings.Trim(norm, "-0.") == "" {
			t.Fatalf("ParseAmount(%q) = %q, not a normalized plain decimal", s, norm)
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParseAmount(%q) accepted what big.Rat rejects", s)
		}
		got, err := a.Rat()
		if err != nil || got.Cmp(want) != 0 {
			t.Fatalf("ParseAmount(%q).Rat() = %v, %v; want %s", s, got, err, want.RatString())
		}
		again, err := ParseAmount(norm)
		if err != nil || again.String() != norm {
			t.Fatalf("ParseAmount(%q) = %q, %v; not stable", norm, again.String(), err)
		}
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Amount
		if err := json.Unmarshal(data, &back); err != nil || back.String() != norm {
			t.Fatalf("JSON round trip of %q = %q, %v", norm, back.String(), err)
		}
	})
}

func TestSum(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		want  string
	}{
		{name: "no terms", want: "0"},
		{name: "zero keeps scale", terms: []string{"1.50", "-1.5"}, want: "0.00"},
		{name: "float trap", terms: []string{"0.1", "0.2"}, want: "0.3"},
		{name: "negative fraction", terms: []string{"0.25", "-0.5"}, want: "-0.25"},
		{name: "smallest unit", terms: []string{"-0.0000000001"}, want: "-0.0000000001"},
		{name: "largest amounts", terms: []string{"999999999999999999.9999999999", "999999999999999999.9999999999"},
			want: "1999999999999999999.9999999998"},
		{name: "integers", terms: []string{"-650", "600"}, want: "-50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sum
			for _, term := range tt.terms {
				d, err := parseDecimal(term)
				if err != nil {
					t.Fatal(err)
				}
				s.add(d)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("sum of %q = %s, want %s", tt.terms, got, tt.want)
			}
		})
	}
}
