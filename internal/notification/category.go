package notification

import (
	"errors"
	"regexp"
	"slices"
	"strings"
)

// Categories: an open set. Workflow notifications are CategoryFBDI (with
// the workflow's kind in Kind); a notification that names none is
// CategoryGeneral.
const (
	CategoryFBDI    = "fbdi"
	CategoryGeneral = "general"
)

// Workflow kinds carried in Kind by CategoryFBDI notifications.
const (
	KindBudgetTransfer = "budget_transfer"
	KindJournalImport  = "journal_import"
)

// MaxCategory is the longest category, in bytes.
const MaxCategory = 40

var categoryPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// ErrCategory is returned by ParseCategory for a category that is not one.
var ErrCategory = errors.New("a category is 1 to 40 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")

// ParseCategory returns the category c names: CategoryGeneral when c is
// empty, else c itself if it is 1 to MaxCategory bytes of lower-case
// letters, digits, '_', '.' and '-', starting with a letter or digit. It is
// the one rule for a category, wherever one comes from (the queue, a client's
// filter or preferences).
func ParseCategory(c string) (string, error) {
	if c == "" {
		return CategoryGeneral, nil
	}
	if len(c) > MaxCategory || !categoryPattern.MatchString(c) {
		return "", ErrCategory
	}
	return c, nil
}

// DefaultUnreadTypes are the types that count as unread when stored: the
// start, the end and generic notifications; a workflow's progress steps do
// not (one transfer adds three unread items, not twelve).
var DefaultUnreadTypes = []string{TypeNotification, TypeUploadStarted, TypeUploadCompleted, TypeUploadFailed}

// UnreadRule says which notification types count as unread when stored.
type UnreadRule struct {
	types []string
}

// NewUnreadRule returns the rule counting the given types as unread;
// with none, DefaultUnreadTypes.
func NewUnreadRule(types ...string) UnreadRule {
	if len(types) == 0 {
		types = DefaultUnreadTypes
	}
	return UnreadRule{types: slices.Clone(types)}
}

// ParseUnreadRule parses a comma-separated list of types (UNREAD_TYPES);
// empty means DefaultUnreadTypes. It refuses a type that is not a
// notification type a user can be sent.
func ParseUnreadRule(s string) (UnreadRule, error) {
	if strings.TrimSpace(s) == "" {
		return NewUnreadRule(), nil
	}
	var types []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		switch t {
		case TypeNotification, TypeUploadStarted, TypeUploadProgress, TypeUploadCompleted, TypeUploadFailed:
			types = append(types, t)
		default:
			return UnreadRule{}, errors.New("unread types: " + t + " is not a notification type")
		}
	}
	return NewUnreadRule(types...), nil
}

// Unread reports whether n counts as unread when it is stored. A critical
// notification always does.
func (r UnreadRule) Unread(n Notification) bool {
	if n.Critical {
		return true
	}
	types := r.types
	if types == nil {
		types = DefaultUnreadTypes
	}
	return slices.Contains(types, n.Type)
}

// Classify sets what every stored notification carries: its category
// (CategoryGeneral when it has none) and, for oracle_upload_failed, which
// can never be muted, Critical.
func Classify(n *Notification) {
	if n.Category == "" {
		n.Category = CategoryGeneral
	}
	if n.Type == TypeUploadFailed {
		n.Critical = true
	}
}
