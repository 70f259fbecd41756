package fbdi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Limits of a plain decimal amount. Oracle stores amounts as NUMBER (38
// significant digits); 18 + 10 digits leave room for any currency's precision
// and for conversion rates.
const (
	MaxIntegerDigits  = 18 // digits before the decimal mark, leading zeros aside
	MaxFractionDigits = 10 // digits after the decimal mark
)

// Amount is a decimal amount kept as text, so it is never rounded through a
// float. In JSON it is read from a number (-650, 1234.50) or a string ("-650",
// "1234.50"); null and "" leave it unset. The text is checked by validation
// (and by ParseAmount), not while decoding, so a bad amount is reported with
// its line: it must be a plain decimal number, an optional sign, digits and
// at most one '.', with no thousands separators, exponents or spaces, at most
// MaxIntegerDigits digits before the '.' and MaxFractionDigits after it.
//
// The zero Amount is unset. Amount is written to JSON as a string.
type Amount struct {
	text string // normalized when made by ParseAmount; as received otherwise
	set  bool
}

// ParseAmount parses s as a plain decimal number and returns it normalized:
// no '+' sign, no leading zeros, "0." before a bare fraction, no "-0".
// Digits after the decimal mark are kept as given ("1234.50" stays "1234.50").
func ParseAmount(s string) (Amount, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return Amount{}, fmt.Errorf("fbdi: amount %w", err)
	}
	return Amount{text: d.text, set: true}, nil
}

// IsSet reports whether the amount was given (an amount of 0 is set).
func (a Amount) IsSet() bool { return a.set }

// String returns the amount in the plain form written to the FBDI files, or the
// text as received if it is not a plain decimal number, or "" if unset.
func (a Amount) String() string {
	if d, err := parseDecimal(a.text); err == nil {
		return d.text
	}
	return a.text
}

// Rat returns the exact value of the amount. It fails if the amount is unset
// or not a plain decimal number.
func (a Amount) Rat() (*big.Rat, error) {
	if !a.set {
		return nil, errors.New("fbdi: amount is not set")
	}
	d, err := parseDecimal(a.text)
	if err != nil {
		return nil, fmt.Errorf("fbdi: amount %w", err)
	}
	return d.rat(), nil
}

// MarshalJSON writes the amount as a JSON string, or null if unset.
func (a Amount) MarshalJSON() ([]byte, error) {
	if !a.set {
		return []byte("null"), nil
	}
	return json.Marshal(a.String())
}

// UnmarshalJSON reads a JSON number, string or null. Other JSON types are an error.
func (a *Amount) UnmarshalJSON(b []byte) error {
	text, set, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("fbdi: amount: %w", err)
	}
	*a = Amount{text: text, set: set}
	return nil
}

// check validates a set amount of line i; it returns the value, or nil after
// adding a problem.
func (a Amount) check(p *problems, i int, field string) *decimal {
	d, err := parseDecimal(a.text)
	if err != nil {
		p.add("line %d: %s %v", i+1, field, err)
		return nil
	}
	return &d
}

// Integer is a positive whole number such as a line number, a ledger ID or a
// group ID, kept as text. In JSON it is read from a number (602) or a numeric
// string ("602"); null and "" leave it unset. Like Amount, it is checked by
// validation: digits only, at most MaxIntegerDigits, greater than zero.
//
// The zero Integer is unset. Integer is written to JSON as a string.
type Integer struct {
	text string
	set  bool
}

// ParseInteger parses s as a positive whole number and returns it without
// leading zeros.
func ParseInteger(s string) (Integer, error) {
	n, err := parseInteger(s)
	if err != nil {
		return Integer{}, fmt.Errorf("fbdi: number %w", err)
	}
	return Integer{text: n, set: true}, nil
}

// IsSet reports whether the number was given.
func (n Integer) IsSet() bool { return n.set }

// String returns the number without leading zeros, or the text as received if
// it is not a positive whole number, or "" if unset.
func (n Integer) String() string {
	if s, err := parseInteger(n.text); err == nil {
		return s
	}
	return n.text
}

// Int64 returns the value. It fails if the number is unset or invalid.
func (n Integer) Int64() (int64, error) {
	if !n.set {
		return 0, errors.New("fbdi: number is not set")
	}
	s, err := parseInteger(n.text)
	if err != nil {
		return 0, fmt.Errorf("fbdi: number %w", err)
	}
	return strconv.ParseInt(s, 10, 64) // at most 18 digits: always fits
}

// MarshalJSON writes the number as a JSON string, or null if unset.
func (n Integer) MarshalJSON() ([]byte, error) {
	if !n.set {
		return []byte("null"), nil
	}
	return json.Marshal(n.String())
}

// UnmarshalJSON reads a JSON number, string or null. Other JSON types are an error.
func (n *Integer) UnmarshalJSON(b []byte) error {
	text, set, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("fbdi: number: %w", err)
	}
	*n = Integer{text: text, set: set}
	return nil
}

// check validates the number of line i, which must be set when required; it
// returns the normalized text, or "" if unset or after adding a problem.
func (n Integer) check(p *problems, i int, field string, required bool) string {
	if !n.set {
		if required {
			p.add("line %d: %s is required", i+1, field)
		}
		return ""
	}
	s, err := parseInteger(n.text)
	if err != nil {
		p.add("line %d: %s %v", i+1, field, err)
		return ""
	}
	return s
}

// Segments are the values of Segment1, Segment2, ... in order. An empty entry
// leaves its segment empty. In JSON each entry may be a string, a number
// (written as given) or null (empty).
type Segments []string

// UnmarshalJSON reads an array of strings, numbers and nulls.
func (s *Segments) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("fbdi: segments: %w", err)
	}
	if raw == nil {
		*s = nil
		return nil
	}
	out := make(Segments, len(raw))
	for i, r := range raw {
		text, _, err := scalarText(r)
		if err != nil {
			return fmt.Errorf("fbdi: segment%d: %w", i+1, err)
		}
		out[i] = text
	}
	*s = out
	return nil
}

// scalarText returns the text of a JSON string or number literal; null and ""
// give set == false.
func scalarText(b []byte) (text string, set bool, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", false, nil
	case b[0] == '"':
		if err := json.Unmarshal(b, &text); err != nil {
			return "", false, err
		}
		return text, text != "", nil
	case b[0] == '-' || '0' <= b[0] && b[0] <= '9':
		return string(b), true, nil // a JSON number literal, exactly as written
	default:
		return "", false, fmt.Errorf("want a number or a string, got %s", quote(string(b)))
	}
}

// decimal is a parsed plain decimal number.
type decimal struct {
	text  string // normalized, e.g. "-1234.50"
	scale int    // digits after the decimal mark
}

func (d decimal) rat() *big.Rat {
	r, _ := new(big.Rat).SetString(d.text) // d.text is always a valid decimal
	return r
}

// parseDecimal parses a plain decimal number. Its errors read as the end of a
// sentence that starts with the field name: `"1,000" is not a plain decimal number`.
func parseDecimal(s string) (decimal, error) {
	if s == "" {
		return decimal{}, errors.New("is empty")
	}
	body, neg := s, false
	if body[0] == '-' || body[0] == '+' {
		body, neg = body[1:], body[0] == '-'
	}
	intPart, fracPart, _ := strings.Cut(body, ".")
	if intPart == "" && fracPart == "" || !digits(intPart) || !digits(fracPart) {
		return decimal{}, fmt.Errorf("%s is not a plain decimal number", quote(s))
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > MaxIntegerDigits {
		return decimal{}, fmt.Errorf("%s has more than %d digits before the decimal mark", quote(s), MaxIntegerDigits)
	}
	if len(fracPart) > MaxFractionDigits {
		return decimal{}, fmt.Errorf("%s has more than %d digits after the decimal mark", quote(s), MaxFractionDigits)
	}
	if intPart == "" {
		intPart = "0"
	}
	text := intPart
	if fracPart != "" {
		text += "." + fracPart
	}
	if neg && strings.Trim(text, "0.") != "" {
		text = "-" + text
	}
	return decimal{text: text, scale: len(fracPart)}, nil
}

// parseInteger parses a positive whole number and drops leading zeros.
func parseInteger(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	if !digits(s) {
		return "", fmt.Errorf("%s is not a positive whole number", quote(s))
	}
	n := strings.TrimLeft(s, "0")
	switch {
	case n == "":
		return "", fmt.Errorf("%s is not a positive whole number", quote(s))
	case len(n) > MaxIntegerDigits:
		return "", fmt.Errorf("%s has more than %d digits", quote(s), MaxIntegerDigits)
	}
	return n, nil
}

// digits reports whether s holds only ASCII digits ("" included).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sum adds exact amounts as a whole number of 10^-MaxFractionDigits units,
// and remembers the largest scale, to print the total with as many decimals
// as its terms.
type sum struct {
	units big.Int
	scale int
}

var unitScale = strings.Repeat("0", MaxFractionDigits)

func (s *sum) add(d decimal) {
	intPart, fracPart, _ := strings.Cut(d.text, ".")
	var v big.Int
	v.SetString(intPart+fracPart+unitScale[len(fracPart):], 10) // d.text is a valid decimal
	s.units.Add(&s.units, &v)
	s.scale = max(s.scale, d.scale)
}

// sign returns -1, 0 or +1.
func (s *sum) sign() int { return s.units.Sign() }

// minus returns s - o.
func (s *sum) minus(o *sum) sum {
	var d sum
	d.units.Sub(&s.units, &o.units)
	d.scale = max(s.scale, o.scale)
	return d
}

// String returns the total with s.scale decimals; the digits dropped are zeros.
func (s *sum) String() string {
	digits := new(big.Int).Abs(&s.units).String()
	if len(digits) <= MaxFractionDigits {
		digits = strings.Repeat("0", MaxFractionDigits-len(digits)+1) + digits
	}
	point := len(digits) - MaxFractionDigits
	text := digits[:point]
	if s.scale > 0 {
		text += "." + digits[point:point+s.scale]
	}
	if s.units.Sign() < 0 {
		text = "-" + text
	}
	return text
}
