package fbdi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// JournalLine is one GL_INTERFACE row of a journal import (docs/protocol.md#journal_import-lines), one
// row of GlInterface.csv. Lengths follow Oracle's GL_INTERFACE table and are
// counted in characters. Dates are written YYYY-MM-DD.
type JournalLine struct {
	LedgerID           Integer  `json:"ledger_id"`             // required; the same on every line
	LedgerName         string   `json:"ledger_name,omitempty"` // optional, at most 30
	AccountingDate     string   `json:"accounting_date"`       // effective date; required
	DateCreated        string   `json:"date_created,omitempty"`
	PeriodName         string   `json:"period_name,omitempty"` // optional, at most 15; Oracle derives it from the date
	UserJESourceName   string   `json:"user_je_source_name"`   // journal source; required, at most 25, the same on every line
	UserJECategoryName string   `json:"user_je_category_name"` // journal category; required, at most 25
	CurrencyCode       string   `json:"currency_code"`         // entered currency, ISO 4217; required
	ActualFlag         string   `json:"actual_flag"`           // A (actual), B (budget) or E (encumbrance); required
	EncumbranceTypeID  Integer  `json:"encumbrance_type_id,omitzero"`
	Segments           Segments `json:"segments"`            // Segment1..Segment30; Segment1 required
	EnteredDR          Amount   `json:"entered_dr,omitzero"` // debit; at least one of entered_dr and entered_cr
	EnteredCR          Amount   `json:"entered_cr,omitzero"` // credit
	AccountedDR        Amount   `json:"accounted_dr,omitzero"`
	AccountedCR        Amount   `json:"accounted_cr,omitzero"`

	// Journal Import references. REFERENCE3 and REFERENCE11..17 are not in the
	// file: Journal Import keeps them for itself.
	Reference1  string `json:"reference1,omitempty"`  // batch name, at most 100
	Reference2  string `json:"reference2,omitempty"`  // batch description, at most 240
	Reference4  string `json:"reference4,omitempty"`  // journal name, at most 100
	Reference5  string `json:"reference5,omitempty"`  // journal description, at most 240
	Reference6  string `json:"reference6,omitempty"`  // journal reference, at most 100
	Reference7  string `json:"reference7,omitempty"`  // reverse journal: Y or N, at most 100
	Reference8  string `json:"reference8,omitempty"`  // reversal period, at most 100
	Reference9  string `json:"reference9,omitempty"`  // reversal method: Y (change sign) or N, at most 100
	Reference10 string `json:"reference10,omitempty"` // line description, at most 240
	Reference21 string `json:"reference21,omitempty"` // "Reference column 1".."10" of the template, each at most 240
	Reference22 string `json:"reference22,omitempty"`
	Reference23 string `json:"reference23,omitempty"`
	Reference24 string `json:"reference24,omitempty"`
	Reference25 string `json:"reference25,omitempty"`
	Reference26 string `json:"reference26,omitempty"`
	Reference27 string `json:"reference27,omitempty"`
	Reference28 string `json:"reference28,omitempty"`
	Reference29 string `json:"reference29,omitempty"`
	Reference30 string `json:"reference30,omitempty"`

	CurrencyConversionType string `json:"user_currency_conversion_type,omitempty"` // e.g. Corporate, at most 30
	CurrencyConversionDate string `json:"currency_conversion_date,omitempty"`
	CurrencyConversionRate Amount `json:"currency_conversion_rate,omitzero"` // greater than zero

	GroupID Integer `json:"group_id"` // interface group; required, the same on every line

	// Journal entry line descriptive flexfield; optional.
	AttributeCategory string   `json:"attribute_category,omitempty"` // context, at most 150
	Attributes        []string `json:"attributes,omitempty"`         // ATTRIBUTE1..20, each at most 150
}

// Journal line field limits.
const (
	journalNameLength  = 25 // journal source and category
	ledgerNameLength   = 30
	shortRefLength     = 100
	longRefLength      = 240
	conversionLength   = 30
	journalAttributes  = 20
	journalColumnCount = 149
)

// journalColumns is the column order of GlInterface.csv: the GL_INTERFACE sheet
// of Oracle's JournalImportTemplate.xlsm, named here by GL_INTERFACE column.
//
// Source: no Oracle page that lists the sheet was at hand, so the order was
// taken from three independent public loaders of GlInterface.csv that agree:
// a headerless fixture that was loaded into Fusion and cites positions 1-8,
// 9-14, 39, 40, 43, 46, 52, 53 (REFERENCE21), 67 (GROUP_ID), 92 (LEDGER_NAME)
// and 95 (PERIOD_NAME) in a 149-field row; an Oracle external table that reads
// the file by position through ATTRIBUTE_NUMBER10 (column 118); and a generator
// that lists every template header. Oracle's CCS-to-ERP mapping guide confirms
// columns 1-40 (the "*Status Code" ... "Entered Credit Amount" headers).
// Unconfirmed: one generator also writes a trailing "END" column (150); the
// loaded fixture had none, and SQL*Loader ignores fields past its control
// file, so none is written.
var journalColumns = func() []string {
	c := []string{"STATUS", "LEDGER_ID", "ACCOUNTING_DATE", "USER_JE_SOURCE_NAME",
		"USER_JE_CATEGORY_NAME", "CURRENCY_CODE", "DATE_CREATED", "ACTUAL_FLAG"} // 1-8
	c = appendNumbered(c, "SEGMENT", MaxSegments)                             // 9-38
	c = append(c, "ENTERED_DR", "ENTERED_CR", "ACCOUNTED_DR", "ACCOUNTED_CR") // 39-42
	c = appendNumbered(c, "REFERENCE", 10)                                    // 43-52
	for i := 21; i <= 30; i++ {
		c = append(c, fmt.Sprintf("REFERENCE%d", i)) // 53-62
	}
	c = append(c, "STAT_AMOUNT", "USER_CURRENCY_CONVERSION_TYPE", "CURRENCY_CONVERSION_DATE",
		"CURRENCY_CONVERSION_RATE", "GROUP_ID", "ATTRIBUTE_CATEGORY") // 63-68
	c = appendNumbered(c, "ATTRIBUTE", journalAttributes) // 69-88
	c = append(c, "ATTRIBUTE_CATEGORY3", "AVERAGE_JOURNAL_FLAG", "ORIGINATING_BAL_SEG_VALUE",
		"LEDGER_NAME", "ENCUMBRANCE_TYPE_ID", "JGZZ_RECON_REF", "PERIOD_NAME",
		"REFERENCE18", "REFERENCE19", "REFERENCE20") // 89-98
	c = appendNumbered(c, "ATTRIBUTE_DATE", 10)   // 99-108
	c = appendNumbered(c, "ATTRIBUTE_NUMBER", 10) // 109-118
	c = append(c, "GLOBAL_ATTRIBUTE_CATEGORY")    // 119
	c = appendNumbered(c, "GLOBAL_ATTRIBUTE", 20) // 120-139
	c = appendNumbered(c, "GLOBAL_ATTRIBUTE_DATE", 5)
	return appendNumbered(c, "GLOBAL_ATTRIBUTE_NUMBER", 5) // 140-149
}()

// JournalColumns returns the 149 GL_INTERFACE column names of GlInterface.csv
// in file order. The file itself has no header row.
func JournalColumns() []string { return append([]string(nil), journalColumns...) }

// journalColumn returns the 0-based position of a GL_INTERFACE column.
func journalColumn(name string) int {
	for i, c := range journalColumns {
		if c == name {
			return i
		}
	}
	panic("fbdi: no journal column " + name) // a typo in this file
}

// Positions of the columns JournalCSV fills.
var (
	jStatus, jLedgerID, jAccountingDate = journalColumn("STATUS"), journalColumn("LEDGER_ID"), journalColumn("ACCOUNTING_DATE")
	jSource, jCategory, jCurrency       = journalColumn("USER_JE_SOURCE_NAME"), journalColumn("USER_JE_CATEGORY_NAME"), journalColumn("CURRENCY_CODE")
	jDateCreated, jActualFlag           = journalColumn("DATE_CREATED"), journalColumn("ACTUAL_FLAG")
	jSegment1, jEnteredDR, jEnteredCR   = journalColumn("SEGMENT1"), journalColumn("ENTERED_DR"), journalColumn("ENTERED_CR")
	jAccountedDR, jAccountedCR          = journalColumn("ACCOUNTED_DR"), journalColumn("ACCOUNTED_CR")
	jReference1, jReference21           = journalColumn("REFERENCE1"), journalColumn("REFERENCE21")
	jConversionType, jConversionDate    = journalColumn("USER_CURRENCY_CONVERSION_TYPE"), journalColumn("CURRENCY_CONVERSION_DATE")
	jConversionRate, jGroupID           = journalColumn("CURRENCY_CONVERSION_RATE"), journalColumn("GROUP_ID")
	jAttrCategory, jAttribute1          = journalColumn("ATTRIBUTE_CATEGORY"), journalColumn("ATTRIBUTE1")
	jLedgerName, jEncumbranceType       = journalColumn("LEDGER_NAME"), journalColumn("ENCUMBRANCE_TYPE_ID")
	jPeriodName                         = journalColumn("PERIOD_NAME")
)

// references returns the reference fields in file order: REFERENCE1..10 (with
// REFERENCE3 empty) then REFERENCE21..30.
func (l *JournalLine) references() [20]string {
	return [20]string{l.Reference1, l.Reference2, "", l.Reference4, l.Reference5, l.Reference6,
		l.Reference7, l.Reference8, l.Reference9, l.Reference10,
		l.Reference21, l.Reference22, l.Reference23, l.Reference24, l.Reference25,
		l.Reference26, l.Reference27, l.Reference28, l.Reference29, l.Reference30}
}

// referenceFields names the entries of references with their length limits.
var referenceFields = [20]struct {
	name   string
	length int
}{
	{"reference1", shortRefLength}, {"reference2", longRefLength}, {"reference3", 0},
	{"reference4", shortRefLength}, {"reference5", longRefLength}, {"reference6", shortRefLength},
	{"reference7", shortRefLength}, {"reference8", shortRefLength}, {"reference9", shortRefLength},
	{"reference10", longRefLength},
	{"reference21", longRefLength}, {"reference22", longRefLength}, {"reference23", longRefLength},
	{"reference24", longRefLength}, {"reference25", longRefLength}, {"reference26", longRefLength},
	{"reference27", longRefLength}, {"reference28", longRefLength}, {"reference29", longRefLength},
	{"reference30", longRefLength},
}

// ValidateJournal checks GL_INTERFACE lines and returns a *ValidationError
// listing every problem, or nil. Beyond each field's own rules: there are 1 to
// MaxLines lines; every line has the same ledger_id, user_je_source_name and
// group_id, because one Journal Import run (ledger, source, group) imports the
// file; each line has entered_dr or entered_cr (or both), and no amount is
// negative; and the actual (A) lines balance: for each group_id, accounting
// date and currency, entered debits equal entered credits exactly. Budget (B)
// and encumbrance (E) lines need not balance. Balances are not reported while
// a line cannot be placed in its journal (bad group_id, date or actual_flag),
// nor for a journal with an invalid amount.
func ValidateJournal(lines []JournalLine) error {
	var p problems
	if !p.count(len(lines)) {
		return p.err()
	}
	type balanceKey struct{ group, date, currency string }
	type balance struct {
		dr, cr sum
		valid  bool // every amount of the journal is valid
	}
	balances := make(map[balanceKey]*balance)
	var order []balanceKey
	// keyOK stays true while every line can be placed in its journal; when one
	// cannot (a bad group, date or actual_flag), no balance is reported.
	keyOK := true
	var firstLedger, firstGroup string // line 1's values, if valid
	for i := range lines {
		l := &lines[i]
		group := l.GroupID.check(&p, i, "group_id", true)
		ledger := l.LedgerID.check(&p, i, "ledger_id", true)
		if i == 0 {
			firstLedger, firstGroup = ledger, group
		}
		p.text(i, "ledger_name", l.LedgerName, false, ledgerNameLength)
		p.date(i, "accounting_date", l.AccountingDate, true)
		p.date(i, "date_created", l.DateCreated, false)
		p.text(i, "period_name", l.PeriodName, false, periodNameLength)
		p.text(i, "user_je_source_name", l.UserJESourceName, true, journalNameLength)
		p.text(i, "user_je_category_name", l.UserJECategoryName, true, journalNameLength)
		p.currency(i, "currency_code", l.CurrencyCode)
		switch l.ActualFlag {
		case "A", "B", "E":
		case "":
			p.add("line %d: actual_flag is required", i+1)
			keyOK = false
		default:
			p.add("line %d: actual_flag %s must be A (actual), B (budget) or E (encumbrance)", i+1, quote(l.ActualFlag))
			keyOK = false
		}
		l.EncumbranceTypeID.check(&p, i, "encumbrance_type_id", false)
		p.segments(i, l.Segments)

		if !l.EnteredDR.IsSet() && !l.EnteredCR.IsSet() {
			p.add("line %d: entered_dr or entered_cr is required", i+1)
		}
		dr, drOK := nonNegative(&p, i, "entered_dr", l.EnteredDR)
		cr, crOK := nonNegative(&p, i, "entered_cr", l.EnteredCR)
		_, _ = nonNegative(&p, i, "accounted_dr", l.AccountedDR)
		_, _ = nonNegative(&p, i, "accounted_cr", l.AccountedCR)

		refs := l.references()
		for j, f := range referenceFields {
			if f.length > 0 {
				p.text(i, f.name, refs[j], false, f.length)
			}
		}
		p.text(i, "user_currency_conversion_type", l.CurrencyConversionType, false, conversionLength)
		p.date(i, "currency_conversion_date", l.CurrencyConversionDate, false)
		if l.CurrencyConversionRate.IsSet() {
			if d := l.CurrencyConversionRate.check(&p, i, "currency_conversion_rate"); d != nil && d.rat().Sign() <= 0 {
				p.add("line %d: currency_conversion_rate %s is not greater than zero", i+1, quote(d.text))
			}
		}
		p.text(i, "attribute_category", l.AttributeCategory, false, attributeLength)
		p.entries(i, "attributes", len(l.Attributes), journalAttributes)
		for j, v := range l.Attributes {
			p.text(i, fmt.Sprintf("attribute%d", j+1), v, false, attributeLength)
		}

		if i > 0 {
			for _, c := range []struct{ field, got, want string }{
				{"ledger_id", ledger, firstLedger},
				{"user_je_source_name", l.UserJESourceName, lines[0].UserJESourceName},
				{"group_id", group, firstGroup},
			} {
				if strings.TrimSpace(c.got) != "" && strings.TrimSpace(c.want) != "" && c.got != c.want {
					p.add("line %d: %s %s differs from %s on line 1: one Journal Import run takes one ledger, source and group",
						i+1, c.field, quote(c.got), quote(c.want))
				}
			}
		}

		if l.ActualFlag != "A" {
			continue
		}
		if _, dateOK := fileDate(l.AccountingDate); group == "" || !dateOK {
			keyOK = false
			continue
		}
		k := balanceKey{group, l.AccountingDate, l.CurrencyCode}
		b := balances[k]
		if b == nil {
			b = &balance{valid: true}
			balances[k] = b
			order = append(order, k)
		}
		b.valid = b.valid && drOK && crOK
		if dr != nil {
			b.dr.add(*dr)
		}
		if cr != nil {
			b.cr.add(*cr)
		}
	}
	for _, k := range order {
		b := balances[k]
		if !keyOK {
			break
		}
		if diff := b.dr.minus(&b.cr); b.valid && diff.sign() != 0 {
			p.add("journal of group_id %s dated %s in %s is out of balance: debits %s, credits %s, difference %s",
				k.group, k.date, k.currency, b.dr.String(), b.cr.String(), diff.String())
		}
	}
	return p.err()
}

// nonNegative checks an optional amount of line i. It returns the value (nil
// if unset or invalid) and whether the amount is unset or valid.
func nonNegative(p *problems, i int, field string, a Amount) (*decimal, bool) {
	if !a.IsSet() {
		return nil, true
	}
	d := a.check(p, i, field)
	if d == nil {
		return nil, false
	}
	if strings.HasPrefix(d.text, "-") {
		p.add("line %d: %s %s is negative", i+1, field, quote(d.text))
		return nil, false
	}
	return d, true
}

// JournalCSV validates lines with ValidateJournal and returns the content of
// GlInterface.csv: one row per line, in the order given, 149 columns in the
// order of JournalColumns, no header. STATUS is NEW; DATE_CREATED is the line's
// date_created, else its accounting date (Oracle requires one; the builder
// reads no clock).
func JournalCSV(lines []JournalLine) ([]byte, error) {
	if err := ValidateJournal(lines); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(lines) * (journalColumnCount + 128))
	w := csv.NewWriter(&buf)
	row := make([]string, len(journalColumns))
	for i := range lines {
		l := &lines[i]
		clear(row)
		row[jStatus] = "NEW"
		row[jLedgerID] = l.LedgerID.String()
		row[jAccountingDate], _ = fileDate(l.AccountingDate)
		row[jSource] = l.UserJESourceName
		row[jCategory] = l.UserJECategoryName
		row[jCurrency] = l.CurrencyCode
		row[jDateCreated] = row[jAccountingDate]
		if l.DateCreated != "" {
			row[jDateCreated], _ = fileDate(l.DateCreated)
		}
		row[jActualFlag] = l.ActualFlag
		copy(row[jSegment1:jSegment1+MaxSegments], l.Segments)
		row[jEnteredDR] = l.EnteredDR.String()
		row[jEnteredCR] = l.EnteredCR.String()
		row[jAccountedDR] = l.AccountedDR.String()
		row[jAccountedCR] = l.AccountedCR.String()
		refs := l.references()
		copy(row[jReference1:jReference1+10], refs[:10])
		copy(row[jReference21:jReference21+10], refs[10:])
		row[jConversionType] = l.CurrencyConversionType
		row[jConversionDate], _ = fileDate(l.CurrencyConversionDate)
		row[jConversionRate] = l.CurrencyConversionRate.String()
		row[jGroupID] = l.GroupID.String()
		row[jAttrCategory] = l.AttributeCategory
		copy(row[jAttribute1:jAttribute1+journalAttributes], l.Attributes)
		row[jLedgerName] = l.LedgerName
		row[jEncumbranceType] = l.EncumbranceTypeID.String()
		row[jPeriodName] = l.PeriodName
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("fbdi: write %s: %w", JournalFileName, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("fbdi: write %s: %w", JournalFileName, err)
	}
	return buf.Bytes(), nil
}

// JournalZip returns JournalCSV(lines) zipped by Zip as JournalFileName, ready
// for uploadFileToUCM.
func JournalZip(lines []JournalLine) ([]byte, error) {
	data, err := JournalCSV(lines)
	if err != nil {
		return nil, err
	}
	return Zip(JournalFileName, data)
}
