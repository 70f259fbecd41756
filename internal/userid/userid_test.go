package userid_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/finance/fbdi-notify/internal/userid"
)

// TestRule checks the one rule through every entry point: each row's raw JSON
// goes to Parse and, when it is valid JSON, to ID.UnmarshalJSON and (decoded
// with json.Number, as the JWT parser decodes claims) to FromClaim, which must
// all agree. Rows with a claim check FromClaim alone, for values JSON cannot
// give.
func TestRule(t *testing.T) {
	long := strings.Repeat("u", userid.MaxLength)
	tests := []struct {
		name    string
		raw     string // a JSON value; "" is an absent one
		claim   any    // if set, FromClaim(claim) is checked instead of raw
		want    string // the user id when wantErr is ""
		wantErr string // in the error's text
	}{
		// Strings are kept exactly as sent.
		{name: "string", raw: `"123"`, want: "123"},
		{name: "username", raw: `"carol"`, want: "carol"},
		{name: "surrounding spaces kept", raw: `" carol "`, want: " carol "},
		{name: "non-ASCII", raw: `"ünïcödé ✓ 日本"`, want: "ünïcödé ✓ 日本"},
		{name: "escaped", raw: `"a\u00e9\"b"`, want: `aé"b`},
		{name: "MaxLength bytes", raw: `"` + long + `"`, want: long},
		{name: "MaxLength bytes of two-byte characters", raw: `"` + strings.Repeat("é", userid.MaxLength/2) + `"`,
			want: strings.Repeat("é", userid.MaxLength/2)},
		{name: "one byte over MaxLength", raw: `"` + long + `u"`, wantErr: "longer than 256 bytes"},
		{name: "over MaxLength in bytes, not characters", raw: `"` + strings.Repeat("é", userid.MaxLength/2+1) + `"`,
			wantErr: "longer than 256 bytes"},
		{name: "empty string", raw: `""`, wantErr: "empty or blank"},
		{name: "blank string", raw: `"  \t "`, wantErr: "empty or blank"},
		{name: "newline", raw: `"a\nb"`, wantErr: "contains a control character"},
		{name: "NUL", raw: `"a\u0000"`, wantErr: "contains a control character"},
		{name: "DEL", raw: `"a\u007f"`, wantErr: "contains a control character"},
		{name: "invalid UTF-8 in the JSON", raw: "\"a\xffb\"", wantErr: "not valid UTF-8"},
		{name: "invalid UTF-8 claim", claim: "a\xffb", wantErr: "not valid UTF-8"},
		{name: "unterminated string", raw: `"123`, wantErr: "not a valid JSON string"},
		{name: "bad escape", raw: `"\q"`, wantErr: "not a valid JSON string"},

		// Numbers are whole numbers within ±MaxNumber, in any notation.
		{name: "integer", raw: `123`, want: "123"},
		{name: "negative integer", raw: `-7`, want: "-7"},
		{name: "zero", raw: `0`, want: "0"},
		{name: "negative zero", raw: `-0`, want: "0"},
		{name: "zero with fraction and exponent", raw: `0.0e5`, want: "0"},
		{name: "decimal point", raw: `123.0`, want: "123"},
		{name: "exponent", raw: `1.23e2`, want: "123"},
		{name: "upper-case exponent with sign", raw: `1.23E+2`, want: "123"},
		{name: "negative exponent", raw: `12300e-2`, want: "123"},
		{name: "space around", raw: " 123\n", want: "123"},
		{name: "MaxNumber", raw: `9007199254740991`, want: "9007199254740991"},
		{name: "-MaxNumber", raw: `-9007199254740991`, want: "-9007199254740991"},
		{name: "MaxNumber in exponent notation", raw: `9.007199254740991e15`, want: "9007199254740991"},
		{name: "2^53", raw: `9007199254740992`, wantErr: "beyond ±9007199254740991; send a larger id as a string"},
		{name: "2^53+1, which a float64 rounds to 2^53", raw: `9007199254740993`, wantErr: "beyond ±9007199254740991"},
		{name: "-2^53", raw: `-9007199254740992`, wantErr: "beyond ±9007199254740991"},
		{name: "int64 overflow", raw: `99999999999999999999`, wantErr: "beyond ±9007199254740991"},
		{name: "huge exponent", raw: `1e300`, wantErr: "1e300 is beyond"},
		{name: "exponent beyond int64", raw: `1e99999999999999999999`, wantErr: "is beyond"},
		{name: "fraction", raw: `1.5`, wantErr: "1.5 is not a whole number"},
		{name: "fraction a float64 rounds away", raw: `1.0000000000000001`, wantErr: "is not a whole number"},
		{name: "tiny", raw: `1e-400`, wantErr: "1e-400 is not a whole number"},
		{name: "exponent below int64", raw: `1e-99999999999999999999`, wantErr: "is not a whole number"},
		{name: "long number clipped in the error", raw: `1.` + strings.Repeat("1", 100),
			wantErr: "1.111111111111111111111111111111… is not a whole number"},

		// Malformed numbers (not valid JSON, so Parse only).
		{name: "leading zero", raw: `0123`, wantErr: "0123 is not a JSON number"},
		{name: "point without fraction", raw: `1.`, wantErr: "1. is not a JSON number"},
		{name: "exponent without digits", raw: `1e`, wantErr: "1e is not a JSON number"},
		{name: "minus alone", raw: `-`, wantErr: "- is not a JSON number"},
		{name: "hexadecimal", raw: `0x10`, wantErr: "0x10 is not a JSON number"},
		{name: "two numbers", raw: `12 34`, wantErr: "12 34 is not a JSON number"},
		{name: "leading plus", raw: `+1`, wantErr: "not valid JSON"},
		{name: "leading point", raw: `.5`, wantErr: "not valid JSON"},

		// Other JSON values are not user ids.
		{name: "absent", raw: ``, wantErr: "missing"},
		{name: "only space", raw: " \n", wantErr: "missing"},
		{name: "null", raw: `null`, wantErr: "missing"},
		{name: "true", raw: `true`, wantErr: "got true or false; want a string or a whole number"},
		{name: "false", raw: `false`, wantErr: "got true or false"},
		{name: "object", raw: `{"id":1}`, wantErr: "got a JSON object; want a string or a whole number"},
		{name: "array", raw: `["42"]`, wantErr: "got a JSON array; want a string or a whole number"},
		{name: "float64 claim, decoded without json.Number", claim: float64(123), wantErr: "got a float64"},
		{name: "Go int claim", claim: 123, wantErr: "got a int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.claim != nil {
				got, err := userid.FromClaim(tt.claim)
				check(t, "FromClaim", got, err, tt.want, tt.wantErr)
				return
			}
			got, err := userid.Parse(json.RawMessage(tt.raw))
			check(t, "Parse", got, err, tt.want, tt.wantErr)
			if !json.Valid([]byte(tt.raw)) {
				return
			}
			var id userid.ID
			err = json.Unmarshal([]byte(tt.raw), &id)
			check(t, "ID.UnmarshalJSON", string(id), err, tt.want, tt.wantErr)
			if !utf8.ValidString(tt.raw) {
				return // decoding replaces invalid UTF-8, so no claim holds it
			}
			var claim any
			dec := json.NewDecoder(strings.NewReader(tt.raw))
			dec.UseNumber()
			if err := dec.Decode(&claim); err != nil {
				t.Fatal(err)
			}
			got, err = userid.FromClaim(claim)
			check(t, "FromClaim", got, err, tt.want, tt.wantErr)
		})
	}
}

// check fails unless call gave want, or no user id and an ErrInvalid whose
// text starts "invalid user id: " and contains wantErr.
func check(t *testing.T, call, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", call, got, err, want)
		}
		return
	}
	if got != "" || !errors.Is(err, userid.ErrInvalid) || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("%s = %q, %v; want an ErrInvalid containing %q", call, got, err, wantErr)
		return
	}
	if !strings.HasPrefix(err.Error(), "invalid user id: ") {
		t.Errorf("%s error %q does not start with %q", call, err, "invalid user id: ")
	}
}
