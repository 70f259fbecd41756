package history

import (
	"strconv"
	"strings"
)

// Position is a notification's place in its user's history: 1 for the first
// the store accepted, one more for each new one after. 0 means "before the
// first" (After) or "after the last" (Before).
type Position uint64

// cursorPrefix starts every cursor. A cursor is never 26 characters of
// Crockford base32, so it cannot be taken for a notification ID (a ULID).
const cursorPrefix = "c"

// maxCursorLength is the longest cursor: the prefix and 20 digits.
const maxCursorLength = len(cursorPrefix) + 20

// Cursor returns p as the opaque string clients receive in a notification's
// "cursor" and send back in resume's "after" and history's "before". 0 has
// no cursor: "".
func (p Position) Cursor() string {
	if p == 0 {
		return ""
	}
	return cursorPrefix + strconv.FormatUint(uint64(p), 10)
}

// ParseCursor returns the position a cursor made by Position.Cursor stands
// for. ok is false for anything else, including "" and notification IDs.
func ParseCursor(s string) (p Position, ok bool) {
	digits, found := strings.CutPrefix(s, cursorPrefix)
	if !found || digits == "" || len(s) > maxCursorLength || digits[0] == '0' || digits[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return Position(n), true
}
