package fbdi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// BudgetLine is one line of a budget transfer (docs/protocol.md#budget_transfer-lines), one row of
// XccBudgetInterface.csv. Lengths follow Oracle's XCC_BUDGET_INTERFACE table
// and are counted in characters.
type BudgetLine struct {
	SourceBudgetType string   `json:"source_budget_type"` // e.g. HYPERION; required, at most 30
	SourceBudgetName string   `json:"source_budget_name"` // control budget; required, at most 100
	BudgetEntryName  string   `json:"budget_entry_name"`  // the entry all its lines import with; required, at most 500
	LineNumber       Integer  `json:"line_number"`        // unique within the budget entry; required
	Amount           Amount   `json:"amount"`             // signed; the lines of an entry net to zero; required
	CurrencyCode     string   `json:"currency_code"`      // ISO 4217, e.g. AED; same for all lines of an entry
	PeriodName       string   `json:"period_name"`        // e.g. Sep-25; required, at most 15
	UOMCode          string   `json:"uom_code,omitempty"` // unit of measure; optional, at most 3
	Segments         Segments `json:"segments"`           // Segment1..Segment30; Segment1 required
	Comment          string   `json:"comment,omitempty"`  // optional, at most 240

	// Budget line descriptive flexfield; all optional.
	AttributeCategory string   `json:"attribute_category,omitempty"` // context, at most 150
	AttributeChar     []string `json:"attribute_char,omitempty"`     // Attribute Char1..10, each at most 150
	AttributeNumber   []Amount `json:"attribute_number,omitempty"`   // Attribute Number1..5
	AttributeDate     []string `json:"attribute_date,omitempty"`     // Attribute Date1..5, YYYY-MM-DD
}

// Budget line field limits.
const (
	budgetTypeLength     = 30
	budgetNameLength     = 100
	budgetEntryLength    = 500
	periodNameLength     = 15
	uomCodeLength        = 3
	budgetCommentLength  = 240
	attributeLength      = 150
	budgetAttributeChars = 10
	budgetAttributeNums  = 5
	budgetAttributeDates = 5
)

// budgetColumns is the column order of XccBudgetInterface.csv (docs/design.md#budget-file).
var budgetColumns = func() []string {
	c := []string{"Source Budget Type", "Source Budget Name", "Budget Entry Name", "Line Number",
		"Amount", "Currency Code", "Period Name", "UOM Code"}
	c = appendNumbered(c, "Segment", MaxSegments)
	c = append(c, "Comment", "Attribute Category")
	c = appendNumbered(c, "Attribute Char", budgetAttributeChars)
	c = appendNumbered(c, "Attribute Number", budgetAttributeNums)
	return appendNumbered(c, "Attribute Date", budgetAttributeDates)
}()

// Positions in budgetColumns of the first column of each repeated group.
const (
	budgetSegment1 = 8
	budgetComment  = budgetSegment1 + MaxSegments
	budgetAttrCat  = budgetComment + 1
	budgetAttrChar = budgetAttrCat + 1
	budgetAttrNum  = budgetAttrChar + budgetAttributeChars
	budgetAttrDate = budgetAttrNum + budgetAttributeNums
)

// BudgetColumns returns the 60 column names of XccBudgetInterface.csv in file
// order. The file itself has no header row.
func BudgetColumns() []string { return append([]string(nil), budgetColumns...) }

// ValidateBudget checks lines of a budget transfer and returns a
// *ValidationError listing every problem, or nil. Beyond each field's own
// rules: there are 1 to MaxLines lines; within one budget entry (lines with the
// same budget_entry_name) the source budget type, source budget name and
// currency are the same, no line number is used twice and the amounts net to
// exactly zero.
func ValidateBudget(lines []BudgetLine) error {
	var p problems
	if !p.count(len(lines)) {
		return p.err()
	}
	type entry struct {
		first   int            // index of its first line
		lineNos map[string]int // line number -> index of the line using it
		net     sum            // total of its amounts
		valid   bool           // every amount valid and every line consistent with the first
	}
	entries := make(map[string]*entry)
	var order []string // entry names in order of first appearance, for stable messages
	for i, l := range lines {
		p.text(i, "source_budget_type", l.SourceBudgetType, true, budgetTypeLength)
		p.text(i, "source_budget_name", l.SourceBudgetName, true, budgetNameLength)
		p.text(i, "budget_entry_name", l.BudgetEntryName, true, budgetEntryLength)
		lineNo := l.LineNumber.check(&p, i, "line_number", true)
		var amount *decimal
		if l.Amount.IsSet() {
			amount = l.Amount.check(&p, i, "amount")
		} else {
			p.add("line %d: amount is required", i+1)
		}
		p.currency(i, "currency_code", l.CurrencyCode)
		p.text(i, "period_name", l.PeriodName, true, periodNameLength)
		p.text(i, "uom_code", l.UOMCode, false, uomCodeLength)
		p.segments(i, l.Segments)
		p.text(i, "comment", l.Comment, false, budgetCommentLength)
		checkBudgetAttributes(&p, i, l)
		if strings.TrimSpace(l.BudgetEntryName) == "" {
			continue // already reported; there is no entry to check it against
		}

		e := entries[l.BudgetEntryName]
		if e == nil {
			e = &entry{first: i, lineNos: make(map[string]int), valid: true}
			entries[l.BudgetEntryName] = e
			order = append(order, l.BudgetEntryName)
		} else {
			f := lines[e.first]
			for _, c := range []struct{ field, got, want string }{
				{"source_budget_type", l.SourceBudgetType, f.SourceBudgetType},
				{"source_budget_name", l.SourceBudgetName, f.SourceBudgetName},
				{"currency_code", l.CurrencyCode, f.CurrencyCode},
			} {
				if strings.TrimSpace(c.got) != "" && strings.TrimSpace(c.want) != "" && c.got != c.want {
					p.add("line %d: %s %s differs from %s on line %d of budget entry %s",
						i+1, c.field, quote(c.got), quote(c.want), e.first+1, quote(l.BudgetEntryName))
					e.valid = false
				}
			}
		}
		if lineNo != "" {
			if prev, dup := e.lineNos[lineNo]; dup {
				p.add("line %d: line_number %s is already used by line %d of budget entry %s",
					i+1, lineNo, prev+1, quote(l.BudgetEntryName))
			} else {
				e.lineNos[lineNo] = i
			}
		}
		if amount == nil {
			e.valid = false
		} else {
			e.net.add(*amount)
		}
	}
	for _, name := range order {
		e := entries[name]
		if e.valid && e.net.sign() != 0 {
			p.add("budget entry %s nets to %s %s, but a transfer's lines must net to zero",
				quote(name), e.net.String(), lines[e.first].CurrencyCode)
		}
	}
	return p.err()
}

// checkBudgetAttributes checks the descriptive flexfield of line i.
func checkBudgetAttributes(p *problems, i int, l BudgetLine) {
	p.text(i, "attribute_category", l.AttributeCategory, false, attributeLength)
	p.entries(i, "attribute_char", len(l.AttributeChar), budgetAttributeChars)
	for j, v := range l.AttributeChar {
		p.text(i, fmt.Sprintf("attribute_char%d", j+1), v, false, attributeLength)
	}
	p.entries(i, "attribute_number", len(l.AttributeNumber), budgetAttributeNums)
	for j, v := range l.AttributeNumber {
		if v.IsSet() {
			v.check(p, i, fmt.Sprintf("attribute_number%d", j+1))
		}
	}
	p.entries(i, "attribute_date", len(l.AttributeDate), budgetAttributeDates)
	for j, v := range l.AttributeDate {
		p.date(i, fmt.Sprintf("attribute_date%d", j+1), v, false)
	}
}

// BudgetCSV validates lines with ValidateBudget and returns the content of
// XccBudgetInterface.csv: one row per line, in the order given, 60 columns in
// the order of BudgetColumns, no header.
func BudgetCSV(lines []BudgetLine) ([]byte, error) {
	if err := ValidateBudget(lines); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(lines) * (len(budgetColumns) + 64))
	w := csv.NewWriter(&buf)
	row := make([]string, len(budgetColumns))
	for _, l := range lines {
		clear(row)
		row[0] = l.SourceBudgetType
		row[1] = l.SourceBudgetName
		row[2] = l.BudgetEntryName
		row[3] = l.LineNumber.String()
		row[4] = l.Amount.String()
		row[5] = l.CurrencyCode
		row[6] = l.PeriodName
		row[7] = l.UOMCode
		copy(row[budgetSegment1:budgetComment], l.Segments)
		row[budgetComment] = l.Comment
		row[budgetAttrCat] = l.AttributeCategory
		copy(row[budgetAttrChar:budgetAttrNum], l.AttributeChar)
		for j, v := range l.AttributeNumber {
			row[budgetAttrNum+j] = v.String()
		}
		for j, v := range l.AttributeDate {
			row[budgetAttrDate+j], _ = fileDate(v)
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("fbdi: write %s: %w", BudgetFileName, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("fbdi: write %s: %w", BudgetFileName, err)
	}
	return buf.Bytes(), nil
}

// BudgetZip returns BudgetCSV(lines) zipped by Zip as BudgetFileName, ready for
// uploadFileToUCM.
func BudgetZip(lines []BudgetLine) ([]byte, error) {
	data, err := BudgetCSV(lines)
	if err != nil {
		return nil, err
	}
	return Zip(BudgetFileName, data)
}

// appendNumbered appends prefix1..prefixN to names.
func appendNumbered(names []string, prefix string, n int) []string {
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("%s%d", prefix, i))
	}
	return names
}
