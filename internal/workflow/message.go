package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/finance/fbdi-notify/internal/jsonvalue"
	"github.com/finance/fbdi-notify/internal/userid"
)

// ActionPoll is the action of the continuation message that the Engine sends
// itself while an Oracle job runs.
const ActionPoll = "poll"

// MaxIDLength bounds a transaction ID (a DynamoDB key, also shown to users).
// User IDs follow package userid.
const MaxIDLength = 128

// Request is an upstream transfer message (docs/protocol.md#workflow-queue):
//
//	{"kind":"budget_transfer","transaction_id":"602","user_id":"123","lines":[...],"options":{...}}
//
// transaction_id may be a JSON string or integer; user_id is a user id as
// package userid reads one (a string, or a whole number: 123 is "123").
type Request struct {
	Kind          Kind            // budget_transfer or journal_import
	TransactionID string          // upstream transaction; the workflow's key
	UserID        string          // who is told about progress
	Lines         json.RawMessage // a JSON array; decoded and validated by the Preparing Data step
	Options       Overrides       // overrides of configured Oracle parameters
	Fingerprint   string          // hex SHA-256 of the canonical message; tells duplicates from conflicts
}

// Poll is the continuation message {"action":"poll","transaction_id":"602","seq":N}.
type Poll struct {
	Action        string `json:"action"`         // always ActionPoll
	TransactionID string `json:"transaction_id"` // the workflow to continue
	Seq           int64  `json:"seq"`            // must equal the workflow's PollSeq, else the poll is stale
}

// Message is one parsed workflow-queue message: exactly one field is set.
type Message struct {
	Request *Request // from an upstream system
	Poll    *Poll    // from the Engine itself
}

// Overrides are per-message overrides of the configured Oracle parameters.
// Every field is optional; values may be JSON strings or numbers. Unknown
// keys are rejected, so that a misspelt override is never silently ignored.
type Overrides struct {
	DocumentAccount     string `json:"document_account,omitempty"`      // UCM account
	InterfaceOptionsID  string `json:"interface_options_id,omitempty"`  // InterfaceLoaderController's first parameter
	LoaderParams        string `json:"loader_params,omitempty"`         // template of the InterfaceLoaderController parameters
	BudgetImportParams  string `json:"budget_import_params,omitempty"`  // template of the BudgetImport parameters
	JournalImportParams string `json:"journal_import_params,omitempty"` // template of the JournalImportLauncher parameters
	AutoPostParams      string `json:"autopost_params,omitempty"`       // template of the AutomaticPosting parameters
	DataAccessSet       string `json:"data_access_set,omitempty"`       // JournalImportLauncher: data access set ID
	Source              string `json:"source,omitempty"`                // JournalImportLauncher: journal source (default: the lines')
	LedgerID            string `json:"ledger_id,omitempty"`             // JournalImportLauncher: ledger ID (default: the lines')
	GroupID             string `json:"group_id,omitempty"`              // JournalImportLauncher: group ID (default: the lines')
	AutoPostCriteriaID  string `json:"autopost_criteria_id,omitempty"`  // AutomaticPosting: criteria set ID
}

// UnmarshalJSON decodes options strictly: unknown keys are errors. Values are
// read as jsonvalue.Text: strings trimmed, numbers kept as written, null as
// an option not given.
func (o *Overrides) UnmarshalJSON(data []byte) error {
	var raw map[string]jsonvalue.Text
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("options must be an object of strings or numbers: %w", err)
	}
	fields := map[string]*string{
		"document_account": &o.DocumentAccount, "interface_options_id": &o.InterfaceOptionsID,
		"loader_params": &o.LoaderParams, "budget_import_params": &o.BudgetImportParams,
		"journal_import_params": &o.JournalImportParams, "autopost_params": &o.AutoPostParams,
		"data_access_set": &o.DataAccessSet, "source": &o.Source, "ledger_id": &o.LedgerID,
		"group_id": &o.GroupID, "autopost_criteria_id": &o.AutoPostCriteriaID,
	}
	*o = Overrides{}
	for k, v := range raw {
		p, ok := fields[k]
		if !ok {
			return fmt.Errorf("options: unknown option %q", k)
		}
		*p = string(v)
	}
	return nil
}

// ParseMessage parses a workflow-queue message body. A body with an "action"
// key is a continuation (Poll); any other is a Request. It returns an
// *InvalidError, carrying whatever transaction and user IDs could be read,
// when the body is not a valid message.
func ParseMessage(body []byte) (Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return Message{}, &InvalidError{Reason: "the message is not a JSON object"}
	}
	if _, ok := fields["action"]; ok {
		p, err := parsePoll(fields)
		if err != nil {
			return Message{}, err
		}
		return Message{Poll: p}, nil
	}
	r, err := parseRequest(body, fields)
	if err != nil {
		return Message{}, err
	}
	return Message{Request: r}, nil
}

func parsePoll(fields map[string]json.RawMessage) (*Poll, error) {
	var p Poll
	invalid := func(reason string) error {
		return &InvalidError{Reason: "continuation message: " + reason, TransactionID: p.TransactionID}
	}
	id, idErr := parseID(fields["transaction_id"])
	p.TransactionID = id
	if json.Unmarshal(fields["action"], &p.Action) != nil || p.Action != ActionPoll {
		return nil, invalid(fmt.Sprintf("unknown action %s", snippet(fields["action"])))
	}
	if idErr != nil {
		return nil, invalid("transaction_id " + idErr.Error())
	}
	if json.Unmarshal(fields["seq"], &p.Seq) != nil || p.Seq < 1 {
		return nil, invalid("seq must be a positive integer")
	}
	for k := range fields {
		if k != "action" && k != "transaction_id" && k != "seq" {
			return nil, invalid(fmt.Sprintf("unknown field %q", k))
		}
	}
	return &p, nil
}

func parseRequest(body []byte, fields map[string]json.RawMessage) (*Request, error) {
	var r Request
	// The IDs first, so that every later error can name them.
	txID, txErr := parseID(fields["transaction_id"])
	userID, userErr := userid.Parse(fields["user_id"])
	if txErr == nil {
		r.TransactionID = txID
	}
	if userErr == nil {
		r.UserID = userID
	}
	invalid := func(reason string) error {
		return &InvalidError{Reason: reason, TransactionID: r.TransactionID, UserID: r.UserID}
	}
	if txErr != nil {
		return nil, invalid("transaction_id " + txErr.Error())
	}
	if userErr != nil {
		return nil, invalid("user_id: " + userErr.Error())
	}
	var kind string
	if json.Unmarshal(fields["kind"], &kind) != nil {
		return nil, invalid(`kind is required: "budget_transfer" or "journal_import"`)
	}
	r.Kind = Kind(kind)
	if steps(r.Kind) == nil {
		return nil, invalid(fmt.Sprintf(`unknown kind %q: expected "budget_transfer" or "journal_import"`, clip(kind, 40)))
	}
	lines := bytes.TrimSpace(fields["lines"])
	if len(lines) == 0 || lines[0] != '[' {
		return nil, invalid("lines must be a JSON array")
	}
	r.Lines = lines
	if opts, ok := fields["options"]; ok && !bytes.Equal(bytes.TrimSpace(opts), []byte("null")) {
		if err := json.Unmarshal(opts, &r.Options); err != nil {
			return nil, invalid(err.Error())
		}
	}
	for k := range fields {
		switch k {
		case "kind", "transaction_id", "user_id", "lines", "options":
		default:
			return nil, invalid(fmt.Sprintf("unknown field %q", clip(k, 40)))
		}
	}
	r.Fingerprint = fingerprint(body)
	return &r, nil
}

// parseID reads a transaction ID: a non-empty JSON string of at most
// MaxIDLength printable characters, or a JSON integer.
func parseID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("is required")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("is not a valid string")
		}
	} else {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", errors.New("must be a string or an integer")
		}
		if _, err := n.Int64(); err != nil {
			return "", errors.New("must be a string or an integer")
		}
		s = n.String()
	}
	switch {
	case strings.TrimSpace(s) == "":
		return "", errors.New("is required")
	case utf8.RuneCountInString(s) > MaxIDLength:
		return "", fmt.Errorf("is longer than %d characters", MaxIDLength)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errors.New("contains control characters")
	}
	return s, nil
}

// fingerprint returns the hex SHA-256 of body in a canonical form: object keys
// sorted, insignificant space dropped, numbers as written, and the two IDs as
// strings (the user ID as userid.Parse reads it). So the same message re-sent
// with other spacing, key order, "602" for 602 or 1.23e2 for 123 as user_id
// is a duplicate, and any change of content is a conflict. A body that is not
// a JSON object is hashed as it is.
func fingerprint(body []byte) string {
	canon := body
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) == nil && v != nil {
		if n, ok := v["transaction_id"].(json.Number); ok {
			v["transaction_id"] = n.String()
		}
		if n, ok := v["user_id"].(json.Number); ok {
			v["user_id"], _ = userid.Parse(json.RawMessage(n))
		}
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// PeekIDs returns the transaction and user IDs of a message body as far as
// they can be read, for a failure record of a message that is otherwise
// unreadable. Missing or invalid IDs are "".
func PeekIDs(body []byte) (transactionID, userID string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "", ""
	}
	transactionID, _ = parseID(fields["transaction_id"])
	userID, _ = userid.Parse(fields["user_id"])
	return transactionID, userID
}

// snippet quotes the start of a raw JSON value for a message.
func snippet(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	return clip(string(raw), 40)
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// encodePoll returns the body of the poll message for seq.
func encodePoll(transactionID string, seq int64) string {
	b, _ := json.Marshal(Poll{Action: ActionPoll, TransactionID: transactionID, Seq: seq})
	return string(b)
}
