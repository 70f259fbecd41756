package workflow

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/finance/fbdi-notify/internal/fbdi"
)

// prepared is the outcome of Preparing Data.
type prepared struct {
	zip   []byte // the FBDI zip to upload
	plan  Plan   // what the later steps do
	lines int    // number of lines
	csv   string // name of the CSV inside the zip
}

// prepare decodes and validates the lines of r, builds the CSV and the zip,
// and resolves the Oracle parameters of every later step from cfg, the
// message's options and the lines. It returns *InvalidError when the message
// cannot be processed as it is.
func prepare(r *Request, cfg Config) (prepared, error) {
	var (
		p    prepared
		err  error
		vars map[string]string
		amb  map[string]string // placeholder -> why it has no single value
	)
	switch r.Kind {
	case KindBudgetTransfer:
		var lines []fbdi.BudgetLine
		if lines, err = decodeLines[fbdi.BudgetLine](r.Lines); err != nil {
			return p, err
		}
		if p.zip, err = fbdi.BudgetZip(lines); err != nil {
			return p, validationError(err)
		}
		p.lines, p.csv = len(lines), fbdi.BudgetFileName
		vars, amb = budgetVars(lines)
		vars["interface_options_id"] = cmp.Or(r.Options.InterfaceOptionsID, cfg.BudgetInterfaceOptionsID)
		p.plan = Plan{Account: cmp.Or(r.Options.DocumentAccount, cfg.BudgetAccount),
			FileName: zipName("XccBudgetInterface", r.TransactionID),
			Jobs: []PlannedJob{
				{Step: 3, Job: withParams(cfg.Loader, r.Options.LoaderParams)},
				{Step: 4, Job: withParams(cfg.BudgetImport, r.Options.BudgetImportParams)},
			}}
	case KindJournalImport:
		var lines []fbdi.JournalLine
		if lines, err = decodeLines[fbdi.JournalLine](r.Lines); err != nil {
			return p, err
		}
		if p.zip, err = fbdi.JournalZip(lines); err != nil {
			return p, validationError(err)
		}
		p.lines, p.csv = len(lines), fbdi.JournalFileName
		first := lines[0] // JournalZip checked that there is one and that these agree on every line
		vars = map[string]string{
			"interface_options_id": cmp.Or(r.Options.InterfaceOptionsID, cfg.JournalInterfaceOptionsID),
			"data_access_set":      cmp.Or(r.Options.DataAccessSet, cfg.DataAccessSet),
			"source":               cmp.Or(r.Options.Source, first.UserJESourceName),
			"ledger_id":            cmp.Or(r.Options.LedgerID, first.LedgerID.String()),
			"group_id":             cmp.Or(r.Options.GroupID, first.GroupID.String()),
			"autopost_criteria_id": cmp.Or(r.Options.AutoPostCriteriaID, cfg.AutoPostCriteriaID),
		}
		p.plan = Plan{Account: cmp.Or(r.Options.DocumentAccount, cfg.JournalAccount),
			FileName: zipName("GlInterface", r.TransactionID),
			Jobs: []PlannedJob{
				{Step: 3, Job: withParams(cfg.Loader, r.Options.LoaderParams)},
				{Step: 4, Job: withParams(cfg.JournalImport, r.Options.JournalImportParams)},
				{Step: 5, Job: withParams(cfg.AutoPost, r.Options.AutoPostParams)},
			}}
	default:
		return p, &InvalidError{Reason: fmt.Sprintf("unknown kind %q", r.Kind)}
	}
	vars["transaction_id"] = r.TransactionID
	p.plan.Vars = vars

	// Render every job now, with a stand-in document ID, so that a missing
	// parameter fails the transfer before anything is sent to Oracle.
	var problems []string
	for _, j := range p.plan.Jobs {
		t, err := parseTemplate(j.Job.Params)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s parameters: %v", j.Job.Definition, err))
			continue
		}
		for _, name := range t.names() {
			if why, ok := amb[name]; ok {
				problems = append(problems, fmt.Sprintf("%s parameters: %s", j.Job.Definition, why))
			}
		}
		if _, err := t.render(withDocument(vars, "0")); err != nil {
			problems = append(problems, fmt.Sprintf("%s parameters: %v", j.Job.Definition, err))
		}
	}
	if len(problems) > 0 {
		return p, &InvalidError{Reason: strings.Join(problems, "; ")}
	}
	return p, nil
}

// budgetVars returns the placeholder values a budget transfer takes from its
// lines, and for each one whose lines disagree, why it has no single value.
func budgetVars(lines []fbdi.BudgetLine) (vars, ambiguous map[string]string) {
	vars, ambiguous = map[string]string{}, map[string]string{}
	for _, f := range []struct {
		name, field string
		get         func(fbdi.BudgetLine) string
	}{
		{"source_budget_type", "source_budget_type", func(l fbdi.BudgetLine) string { return l.SourceBudgetType }},
		{"source_budget", "source_budget_name", func(l fbdi.BudgetLine) string { return l.SourceBudgetName }},
		{"budget_entry_name", "budget_entry_name", func(l fbdi.BudgetLine) string { return l.BudgetEntryName }},
	} {
		seen := map[string]bool{}
		for _, l := range lines {
			seen[f.get(l)] = true
		}
		if len(seen) == 1 {
			vars[f.name] = f.get(lines[0])
			continue
		}
		vals := make([]string, 0, len(seen))
		for v := range seen {
			vals = append(vals, fmt.Sprintf("%q", clip(v, 40)))
		}
		sort.Strings(vals)
		vars[f.name] = ""
		ambiguous[f.name] = fmt.Sprintf("the lines have %d different %s values (%s); one transfer imports one",
			len(vals), f.field, strings.Join(vals[:min(len(vals), 3)], ", "))
	}
	return vars, ambiguous
}

// decodeLines decodes a JSON array of lines strictly: an unknown field or a
// value of the wrong type is a readable problem naming the line.
func decodeLines[L any](raw json.RawMessage) ([]L, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &InvalidError{Reason: "lines must be a JSON array of objects"}
	}
	var problems []string
	lines := make([]L, len(items))
	for i, it := range items {
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lines[i]); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", i+1, decodeProblem(err)))
		}
		if len(problems) >= 10 {
			problems = append(problems, "...")
			break
		}
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Reason: strings.Join(problems, "; ")}
	}
	return lines, nil
}

// decodeProblem rewrites a JSON decoding error as a sentence for the sender.
func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s must be a %s, not a JSON %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("must be a JSON object, not a JSON %s", te.Value)
	case errors.As(err, &se):
		return "is not valid JSON"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	msg = strings.TrimPrefix(msg, "fbdi: ")
	return msg
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}

// validationError turns a *fbdi.ValidationError into an *InvalidError listing
// its problems.
func validationError(err error) error {
	var ve *fbdi.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	const shown = 10
	list := ve.Problems[:min(len(ve.Problems), shown)]
	reason := strings.Join(list, "; ")
	if more := len(ve.Problems) - len(list) + ve.Omitted; more > 0 {
		reason += fmt.Sprintf("; and %d more", more)
	}
	if reason == "" {
		reason = "the lines are not valid"
	}
	return &InvalidError{Reason: reason}
}

// withParams returns j with its parameter template replaced by override when set.
func withParams(j JobSpec, override string) JobSpec {
	if override != "" {
		j.Params = override
	}
	return j
}

// withDocument returns a copy of vars with document_id set.
func withDocument(vars map[string]string, documentID string) map[string]string {
	out := make(map[string]string, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	out["document_id"] = documentID
	return out
}

// zipName returns "<prefix>_<transaction>.zip" with the transaction ID
// reduced to characters safe in a UCM file name.
func zipName(prefix, transactionID string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, transactionID)
	if len(safe) > 64 { // all ASCII now
		safe = safe[:64]
	}
	return prefix + "_" + safe + ".zip"
}

// names returns the placeholder names t uses.
func (t template) names() []string {
	var out []string
	for _, ps := range t {
		for _, p := range ps {
			if p.name != "" {
				out = append(out, p.name)
			}
		}
	}
	return out
}
