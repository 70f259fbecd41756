// Package fbdi builds the File-Based Data Import files that Oracle Fusion
// loads through its ERP Integrations REST API (see docs/design.md#oracle and
// docs/protocol.md#workflow-queue): XccBudgetInterface.csv for budget transfers (Budgetary
// Control "Import Budget Amounts") and GlInterface.csv for journal imports
// (the GL_INTERFACE table), each zipped on its own at the root of the archive.
//
// Every builder validates its lines before writing anything and returns a
// *ValidationError listing every problem found (up to MaxProblems), each
// naming the line (1-based, in the order given) and the field. Those
// messages are written for the people who sent the lines and are safe to show
// them. A ValidationError wraps ErrInvalid, so callers can tell bad input,
// which must not be retried, from everything else.
//
// The CSV files have no header row, use ',' as the separator, '"' as the
// quote (a quote inside a value is doubled), LF line ends and UTF-8 without a
// byte order mark. Oracle's FBDI templates write their CSV from an Excel macro;
// the Interface Loader (SQL*Loader) reads LF files as well, and LF keeps a stray
// CR out of the last column. Amounts are written as plain decimals: no
// exponent, no thousands separator, '.' as the decimal mark. Dates are written
// YYYY/MM/DD, the format the FBDI templates produce.
//
// All functions are pure and safe for concurrent use.
package fbdi

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// File names Oracle's Interface Loader expects at the root of the zip.
const (
	BudgetFileName  = "XccBudgetInterface.csv"
	JournalFileName = "GlInterface.csv"
)

// Limits applied by validation.
const (
	MaxLines    = 10000 // lines in one file
	MaxSegments = 30    // accounting key flexfield segments (Segment1..Segment30)
	MaxProblems = 100   // problems a ValidationError keeps; the rest are only counted
)

// segmentLength is the longest segment value GL accepts (GL_INTERFACE.SEGMENTn
// is VARCHAR2(25)).
const segmentLength = 25

// ErrInvalid is wrapped by every *ValidationError: the lines can never be
// imported as they are, so retrying is pointless.
var ErrInvalid = errors.New("fbdi: invalid lines")

// ValidationError lists what is wrong with a set of lines. Each problem is
// one sentence such as `line 2: amount "1,000" is not a plain decimal number`,
// where "line 2" is the second line in the order given.
type ValidationError struct {
	Problems []string // at most MaxProblems, in the order found
	Omitted  int      // problems found beyond MaxProblems
}

// shownProblems is how many problems Error includes; Problems has them all.
const shownProblems = 10

// Error returns the first problems joined with "; ", and how many more there are.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return ErrInvalid.Error()
	}
	var b strings.Builder
	b.WriteString("fbdi: ")
	shown := e.Problems[:min(len(e.Problems), shownProblems)]
	b.WriteString(strings.Join(shown, "; "))
	if more := len(e.Problems) - len(shown) + e.Omitted; more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return b.String()
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// problems collects validation messages, keeping the first MaxProblems.
type problems struct {
	list    []string
	omitted int
}

func (p *problems) add(format string, args ...any) {
	if len(p.list) >= MaxProblems {
		p.omitted++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// err returns nil when nothing was added, else a *ValidationError.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list, Omitted: p.omitted}
}

// count checks the number of lines; it reports false when validation should
// stop because there are none or too many.
func (p *problems) count(n int) bool {
	switch {
	case n == 0:
		p.add("at least one line is required")
		return false
	case n > MaxLines:
		p.add("%d lines is more than the limit of %d", n, MaxLines)
		return false
	}
	return true
}

// text checks a text field of line i (0-based): present when required, at most
// maxLen characters, valid UTF-8 and free of control characters, which the
// Interface Loader would read as the end of a record.
func (p *problems) text(i int, field, value string, required bool, maxLen int) {
	if strings.TrimSpace(value) == "" {
		if required {
			p.add("line %d: %s is required", i+1, field)
		}
		if value == "" {
			return
		}
	}
	switch {
	case !utf8.ValidString(value):
		p.add("line %d: %s is not valid UTF-8", i+1, field)
	case strings.IndexFunc(value, unicode.IsControl) >= 0:
		p.add("line %d: %s contains a line break or another control character", i+1, field)
	default:
		if n := utf8.RuneCountInString(value); n > maxLen {
			p.add("line %d: %s is %d characters long, more than the limit of %d", i+1, field, n, maxLen)
		}
	}
}

// entries checks that a list field of line i has at most maxLen entries.
func (p *problems) entries(i int, field string, n, maxLen int) {
	if n > maxLen {
		p.add("line %d: %s has %d entries, more than the limit of %d", i+1, field, n, maxLen)
	}
}

// segments checks the accounting segments of line i: 1 to MaxSegments entries,
// Segment1 present, each at most segmentLength characters. Empty entries in
// between are allowed and keep their column.
func (p *problems) segments(i int, segs Segments) {
	switch {
	case len(segs) == 0:
		p.add("line %d: segments is empty: 1 to %d entries are needed", i+1, MaxSegments)
		return
	case len(segs) > MaxSegments:
		p.add("line %d: segments has %d entries, more than the limit of %d", i+1, len(segs), MaxSegments)
		return
	}
	for j, s := range segs {
		p.text(i, fmt.Sprintf("segment%d", j+1), s, j == 0, segmentLength)
	}
}

// currency checks a currency code: three capital letters (ISO 4217).
func (p *problems) currency(i int, field, code string) {
	if code == "" {
		p.add("line %d: %s is required", i+1, field)
		return
	}
	if len(code) != 3 || strings.IndexFunc(code, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		p.add("line %d: %s %s is not a 3-letter ISO currency code such as \"AED\"", i+1, field, quote(code))
	}
}

// date checks a date written YYYY-MM-DD; empty is allowed unless required.
func (p *problems) date(i int, field, value string, required bool) {
	if value == "" {
		if required {
			p.add("line %d: %s is required", i+1, field)
		}
		return
	}
	if _, ok := fileDate(value); !ok {
		p.add("line %d: %s %s is not a date written YYYY-MM-DD", i+1, field, quote(value))
	}
}

// fileDate turns a YYYY-MM-DD date into the YYYY/MM/DD form of the FBDI files.
func fileDate(s string) (string, bool) {
	if len(s) != len(time.DateOnly) {
		return "", false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", false
	}
	return t.Format("2006/01/02"), true
}

// quote returns s in double quotes for a message, shortened if long.
func quote(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

// zipTime is the modification time of every file in a zip made by Zip, so the
// same input always yields the same bytes (1980-01-01 is the earliest MS-DOS time).
var zipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// Zip returns a deflated zip holding one file, fileName, at its root with the
// content csv. The result depends only on its arguments. fileName must be a
// plain file name (no directory, no "..").
func Zip(fileName string, csv []byte) ([]byte, error) {
	if fileName == "" || fileName == "." || fileName == ".." || strings.ContainsAny(fileName, `/\`) {
		return nil, fmt.Errorf("fbdi: zip: %q is not a plain file name", fileName)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: fileName, Method: zip.Deflate, Modified: zipTime})
	if err != nil {
		return nil, fmt.Errorf("fbdi: zip %s: %w", fileName, err)
	}
	if _, err := w.Write(csv); err != nil {
		return nil, fmt.Errorf("fbdi: zip %s: %w", fileName, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("fbdi: zip %s: %w", fileName, err)
	}
	return buf.Bytes(), nil
}
