// Package userid is the one rule for a user id that crosses the system: in a
// token's claim ($connect), in a notification queue message and in a
// workflow queue message.
//
// A user id is sent either as a JSON string or as a JSON number, as Django
// serialises primary keys, and "123" and 123 name the same user. The rule:
//
//   - A string is kept exactly as sent (it is not trimmed). It must not be
//     empty or blank, must be valid UTF-8 without control characters, and
//     must be at most MaxLength bytes.
//   - A number must be a whole number within ±MaxNumber, in plain or exponent
//     notation: 123, 123.0 and 1.23e2 are all the user "123". Larger ids must
//     be sent as strings.
//   - Anything else (null, true, an object, an array) is not a user id.
//
// Every error matches ErrInvalid and says, in words a sender understands,
// what is wrong with the value.
package userid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLength is the longest user id, in bytes. It holds a Django username (at
// most 150 characters) and is far below DynamoDB's 2048-byte limit on the
// partition keys that user ids become.
const MaxLength = 256

// MaxNumber is the largest magnitude of a user id sent as a JSON number:
// 2^53-1, the integers every JSON parser reads exactly (RFC 8259, section 6).
const MaxNumber = 1<<53 - 1

// maxNumberDigits is the number of decimal digits of MaxNumber.
const maxNumberDigits = 16

// ErrInvalid is matched (errors.Is) by every error this package returns.
var ErrInvalid = errors.New("invalid user id")

// ID is a user id that decodes from JSON by the rules of Parse. A JSON null
// decoded into a *ID leaves the pointer nil, as for any pointer.
type ID string

// UnmarshalJSON sets id to the user id data holds, or returns the error of
// Parse.
func (id *ID) UnmarshalJSON(data []byte) error {
	s, err := Parse(data)
	if err != nil {
		return err
	}
	*id = ID(s)
	return nil
}

// Parse returns the user id that the JSON value raw holds: a string as it is,
// a number in plain decimal ("123" for 1.23e2). An empty raw or null is a
// missing user id.
func Parse(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", invalid("missing")
	}
	if !utf8.Valid(raw) {
		return "", invalid("not valid UTF-8")
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", invalid("not a valid JSON string")
		}
		return checked(s)
	case c == '-' || '0' <= c && c <= '9':
		return whole(string(raw))
	case c == 't' || c == 'f':
		return "", invalid("got true or false; want a string or a whole number")
	case c == '{':
		return "", invalid("got a JSON object; want a string or a whole number")
	case c == '[':
		return "", invalid("got a JSON array; want a string or a whole number")
	}
	return "", invalid("not valid JSON")
}

// FromClaim returns the user id that a JWT claim value holds, as claims
// decoded with json.Number give it (jwt.WithJSONNumber): a string or a
// json.Number. nil (a null claim) is a missing user id. A float64 is refused:
// it may already have been rounded, so its value is not what was sent.
func FromClaim(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", invalid("missing")
	case string:
		return checked(v)
	case json.Number:
		return whole(string(v))
	case bool:
		return "", invalid("got true or false; want a string or a whole number")
	case map[string]any:
		return "", invalid("got a JSON object; want a string or a whole number")
	case []any:
		return "", invalid("got a JSON array; want a string or a whole number")
	}
	return "", invalid("got a %T; want a string or a whole number", v)
}

// Validate returns nil if s is a user id sent as a string: not blank, valid
// UTF-8 without control characters, at most MaxLength bytes.
func Validate(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return invalid("empty or blank")
	case len(s) > MaxLength:
		return invalid("longer than %d bytes", MaxLength)
	case !utf8.ValidString(s):
		return invalid("not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return invalid("contains a control character")
	}
	return nil
}

// checked returns s if it is a valid user id, else Validate's error.
func checked(s string) (string, error) {
	if err := Validate(s); err != nil {
		return "", err
	}
	return s, nil
}

// whole returns the JSON number s in plain decimal if its value is a whole
// number within ±MaxNumber. It reads s exactly, without rounding through a
// float64: 9007199254740993 is too large, not 9007199254740992.
func whole(s string) (string, error) {
	neg, digits, exp, ok := splitNumber(s)
	if !ok {
		return "", invalid("%s is not a JSON number", clip(s))
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil // 0, -0, 0.0e5
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp < 0 {
		return "", invalid("%s is not a whole number", clip(s))
	}
	if int64(len(digits))+exp <= maxNumberDigits {
		n, err := strconv.ParseInt(digits+strings.Repeat("0", int(exp)), 10, 64)
		if err == nil && n <= MaxNumber {
			if neg {
				n = -n
			}
			return strconv.FormatInt(n, 10), nil
		}
	}
	return "", invalid("%s is beyond ±%d; send a larger id as a string", clip(s), MaxNumber)
}

// splitNumber splits a JSON number (RFC 8259: -?int(.frac)?([eE][+-]?exp)?)
// into its sign, the digits of int and frac, and the power of ten they are
// multiplied by. ok is false if s is not a JSON number. An exponent too long
// to read is clamped far beyond any whole number this package accepts.
func splitNumber(s string) (neg bool, digits string, exp int64, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	intPart, rest := leadingDigits(s)
	if intPart == "" || len(intPart) > 1 && intPart[0] == '0' {
		return false, "", 0, false
	}
	digits = intPart
	if strings.HasPrefix(rest, ".") {
		var frac string
		frac, rest = leadingDigits(rest[1:])
		if frac == "" {
			return false, "", 0, false
		}
		digits += frac
		exp = -int64(len(frac))
	}
	if rest == "" {
		return neg, digits, exp, true
	}
	if rest[0] != 'e' && rest[0] != 'E' {
		return false, "", 0, false
	}
	rest = rest[1:]
	expNeg := strings.HasPrefix(rest, "-")
	rest = strings.TrimPrefix(strings.TrimPrefix(rest, "-"), "+")
	expPart, rest := leadingDigits(rest)
	if expPart == "" || rest != "" {
		return false, "", 0, false
	}
	e, err := strconv.ParseInt(expPart, 10, 64)
	if err != nil || e > 1<<40 {
		e = 1 << 40
	}
	if expNeg {
		e = -e
	}
	return neg, digits, exp + e, true
}

// leadingDigits splits s after its leading ASCII digits.
func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

// invalid returns an error matching ErrInvalid: "invalid user id: " and the
// reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// clip shortens a number quoted in an error to at most 32 bytes (numbers are
// ASCII), marking the cut.
func clip(s string) string {
	if len(s) <= 32 {
		return s
	}
	return s[:32] + "…"
}
