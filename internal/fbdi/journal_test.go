package fbdi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// validJournal returns a balanced two-line actual journal.
func validJournal(t testing.TB) []JournalLine {
	t.Helper()
	line := func(account string) JournalLine {
		return JournalLine{
			LedgerID:           mustInteger(t, "300000046975971"),
			AccountingDate:     "2025-09-30",
			UserJESourceName:   "Spreadsheet",
			UserJECategoryName: "Adjustment",
			CurrencyCode:       "USD",
			ActualFlag:         "A",
			Segments:           Segments{"101", "10", account, "510", "000", "000"},
			GroupID:            mustInteger(t, "603"),
		}
	}
	dr, cr := line("62520"), line("21100")
	dr.EnteredDR = mustAmount(t, "1234.50")
	cr.EnteredCR = mustAmount(t, "1234.50")
	return []JournalLine{dr, cr}
}

// col returns the 0-based position of a GL_INTERFACE column, failing the test if absent.
func col(t testing.TB, name string) int {
	t.Helper()
	for i, c := range JournalColumns() {
		if c == name {
			return i
		}
	}
	t.Fatalf("no column %s", name)
	return -1
}

func TestJournalCSVGolden(t *testing.T) {
	m := readMessage[JournalLine](t, "journal_import.json")
	got, err := JournalCSV(m.Lines)
	if err != nil {
		t.Fatalf("JournalCSV: %v", err)
	}
	golden(t, "journal_import.golden.csv", got)

	rows := readCSV(t, got, 149)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	// 1-based positions as documented by a fixture that Oracle loaded.
	for pos, want := range map[int][2]string{
		1:  {"NEW", "NEW"},
		2:  {"300000046975971", "300000046975971"}, // from a JSON number and a string
		3:  {"2025/09/30", "2025/09/30"},
		4:  {"Spreadsheet", "Spreadsheet"},
		5:  {"Adjustment", "Adjustment"},
		6:  {"USD", "USD"},
		7:  {"2025/09/30", "2025/10/01"}, // DATE_CREATED: the accounting date unless given
		8:  {"A", "A"},
		9:  {"101", "101"},
		11: {"62520", "21100"}, // SEGMENT3, the second from a JSON number
		14: {"000", "000"},
		15: {"", ""},
		39: {"1234.50", ""}, // ENTERED_DR
		40: {"", "1234.5"},  // ENTERED_CR
		43: {"Accrual batch 603", "Accrual batch 603"},
		46: {"Accrual 603", "Accrual 603"},
		52: {"Office rent, September", "Accrued rent"},
		53: {"INV-77", ""}, // REFERENCE21
		67: {"603", "603"}, // GROUP_ID
		92: {"US Primary Ledger", "US Primary Ledger"},
		95: {"Sep-25", "Sep-25"},
	} {
		for r := range rows {
			if rows[r][pos-1] != want[r] {
				t.Errorf("row %d column %d (%s) = %q, want %q", r+1, pos, journalColumns[pos-1], rows[r][pos-1], want[r])
			}
		}
	}
}

func TestJournalColumns(t *testing.T) {
	c := JournalColumns()
	if len(c) != 149 {
		t.Fatalf("%d columns, want 149", len(c))
	}
	seen := make(map[string]bool)
	for _, name := range c {
		if seen[name] {
			t.Errorf("column %s appears twice", name)
		}
		seen[name] = true
	}
	for pos, want := range map[int]string{1: "STATUS", 2: "LEDGER_ID", 3: "ACCOUNTING_DATE", 4: "USER_JE_SOURCE_NAME",
		5: "USER_JE_CATEGORY_NAME", 6: "CURRENCY_CODE", 7: "DATE_CREATED", 8: "ACTUAL_FLAG", 9: "SEGMENT1",
		38: "SEGMENT30", 39: "ENTERED_DR", 40: "ENTERED_CR", 41: "ACCOUNTED_DR", 42: "ACCOUNTED_CR",
		43: "REFERENCE1", 52: "REFERENCE10", 53: "REFERENCE21", 62: "REFERENCE30", 63: "STAT_AMOUNT",
		64: "USER_CURRENCY_CONVERSION_TYPE", 65: "CURRENCY_CONVERSION_DATE", 66: "CURRENCY_CONVERSION_RATE",
		67: "GROUP_ID", 68: "ATTRIBUTE_CATEGORY", 69: "ATTRIBUTE1", 88: "ATTRIBUTE20", 89: "ATTRIBUTE_CATEGORY3",
		90: "AVERAGE_JOURNAL_FLAG", 91: "ORIGINATING_BAL_SEG_VALUE", 92: "LEDGER_NAME", 93: "ENCUMBRANCE_TYPE_ID",
		94: "JGZZ_RECON_REF", 95: "PERIOD_NAME", 96: "REFERENCE18", 98: "REFERENCE20", 99: "ATTRIBUTE_DATE1",
		109: "ATTRIBUTE_NUMBER1", 118: "ATTRIBUTE_NUMBER10", 119: "GLOBAL_ATTRIBUTE_CATEGORY",
		120: "GLOBAL_ATTRIBUTE1", 139: "GLOBAL_ATTRIBUTE20", 140: "GLOBAL_ATTRIBUTE_DATE1",
		145: "GLOBAL_ATTRIBUTE_NUMBER1", 149: "GLOBAL_ATTRIBUTE_NUMBER5"} {
		if c[pos-1] != want {
			t.Errorf("column %d = %s, want %s", pos, c[pos-1], want)
		}
	}
}

func TestJournalCSVFields(t *testing.T) {
	lines := validJournal(t)
	l := &lines[0]
	l.AccountedDR = mustAmount(t, "4534.12")
	l.Reference2, l.Reference5, l.Reference6 = "batch desc", "journal desc", "ref6"
	l.Reference7, l.Reference8, l.Reference9 = "Y", "Oct-25", "N"
	l.Reference22, l.Reference30 = "r22", "r30"
	l.CurrencyConversionType = "Corporate"
	l.CurrencyConversionDate = "2025-09-29"
	l.CurrencyConversionRate = mustAmount(t, "3.6725")
	l.AttributeCategory = "Rent"
	l.Attributes = []string{"a1", "", "a3"}
	l.Reference10 = `Rent "HQ", September`
	lines[1].AccountedCR = mustAmount(t, "4534.12")
	lines[1].EncumbranceTypeID = mustInteger(t, "7")
	got, err := JournalCSV(lines)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`,"Rent ""HQ"", September",`)) {
		t.Errorf("line description not quoted as expected:\n%s", got)
	}
	rows := readCSV(t, got, 149)
	for name, want := range map[string]string{"ACCOUNTED_DR": "4534.12", "REFERENCE2": "batch desc", "REFERENCE3": "",
		"REFERENCE5": "journal desc", "REFERENCE6": "ref6", "REFERENCE7": "Y", "REFERENCE8": "Oct-25", "REFERENCE9": "N",
		"REFERENCE10": `Rent "HQ", September`, "REFERENCE22": "r22", "REFERENCE30": "r30",
		"USER_CURRENCY_CONVERSION_TYPE": "Corporate", "CURRENCY_CONVERSION_DATE": "2025/09/29",
		"CURRENCY_CONVERSION_RATE": "3.6725", "ATTRIBUTE_CATEGORY": "Rent", "ATTRIBUTE1": "a1", "ATTRIBUTE2": "",
		"ATTRIBUTE3": "a3", "ENCUMBRANCE_TYPE_ID": "", "LEDGER_NAME": "", "PERIOD_NAME": "", "STAT_AMOUNT": ""} {
		if v := rows[0][col(t, name)]; v != want {
			t.Errorf("row 1 %s = %q, want %q", name, v, want)
		}
	}
	if v := rows[1][col(t, "ACCOUNTED_CR")]; v != "4534.12" {
		t.Errorf("row 2 ACCOUNTED_CR = %q", v)
	}
	if v := rows[1][col(t, "ENCUMBRANCE_TYPE_ID")]; v != "7" {
		t.Errorf("row 2 ENCUMBRANCE_TYPE_ID = %q", v)
	}
}

func TestValidateJournal(t *testing.T) {
	tests := []struct {
		name   string
		change func(t testing.TB, l []JournalLine) []JournalLine
		want   []string
	}{
		{name: "valid journal", change: func(_ testing.TB, l []JournalLine) []JournalLine { return l }},
		{name: "no lines", change: func(_ testing.TB, _ []JournalLine) []JournalLine { return []JournalLine{} },
			want: []string{"at least one line is required"}},
		{name: "too many lines", change: func(_ testing.TB, _ []JournalLine) []JournalLine { return make([]JournalLine, MaxLines+1) },
			want: []string{"10001 lines is more than the limit of 10000"}},
		{name: "required fields", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[1] = JournalLine{}
			return l
		}, want: []string{
			"line 2: group_id is required",
			"line 2: ledger_id is required",
			"line 2: accounting_date is required",
			"line 2: user_je_source_name is required",
			"line 2: user_je_category_name is required",
			"line 2: currency_code is required",
			"line 2: actual_flag is required",
			"line 2: segments is empty: 1 to 30 entries are needed",
			"line 2: entered_dr or entered_cr is required",
		}},
		{name: "bad accounting date", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].AccountingDate = "30/09/2025"
			l[1].AccountingDate = "2025-9-30"
			return l
		}, want: []string{
			`line 1: accounting_date "30/09/2025" is not a date written YYYY-MM-DD`,
			`line 2: accounting_date "2025-9-30" is not a date written YYYY-MM-DD`,
		}},
		{name: "impossible dates", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].DateCreated = "2025-02-29"
			l[1].CurrencyConversionDate = "2025-13-01"
			return l
		}, want: []string{
			`line 1: date_created "2025-02-29" is not a date written YYYY-MM-DD`,
			`line 2: currency_conversion_date "2025-13-01" is not a date written YYYY-MM-DD`,
		}},
		{name: "actual flag", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].ActualFlag = "a"
			l[1].ActualFlag = "X"
			return l
		}, want: []string{
			`line 1: actual_flag "a" must be A (actual), B (budget) or E (encumbrance)`,
			`line 2: actual_flag "X" must be A (actual), B (budget) or E (encumbrance)`,
		}},
		{name: "a line that cannot be placed hides balances", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[0].ActualFlag = "Z"
			l[1].EnteredCR = mustAmount(t, "1")
			return l
		}, want: []string{`line 1: actual_flag "Z" must be A (actual), B (budget) or E (encumbrance)`}},
		{name: "neither debit nor credit", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].EnteredDR = Amount{}
			return l
		}, want: []string{
			"line 1: entered_dr or entered_cr is required",
			"journal of group_id 603 dated 2025-09-30 in USD is out of balance: debits 0, credits 1234.50, difference -1234.50",
		}},
		{name: "debit and credit on one line", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[0].EnteredCR = mustAmount(t, "100")
			l[1].EnteredDR = mustAmount(t, "100.00")
			return l
		}},
		{name: "negative amounts", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].EnteredDR = rawAmount("-1234.50")
			l[1].AccountedCR = rawAmount("-1")
			return l
		}, want: []string{`line 1: entered_dr "-1234.50" is negative`, `line 2: accounted_cr "-1" is negative`}},
		{name: "bad amount", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].EnteredDR = rawAmount("1,234.50")
			return l
		}, want: []string{`line 1: entered_dr "1,234.50" is not a plain decimal number`}},
		{name: "out of balance", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[1].EnteredCR = mustAmount(t, "1234.4")
			return l
		}, want: []string{"journal of group_id 603 dated 2025-09-30 in USD is out of balance: debits 1234.50, credits 1234.4, difference 0.10"}},
		{name: "balances per date and currency", change: func(t testing.TB, l []JournalLine) []JournalLine {
			more := validJournal(t)
			more[0].AccountingDate = "2025-09-29"
			more[1].CurrencyCode = "EUR"
			return append(l, more...)
		}, want: []string{
			"journal of group_id 603 dated 2025-09-29 in USD is out of balance: debits 1234.50, credits 0, difference 1234.50",
			"journal of group_id 603 dated 2025-09-30 in EUR is out of balance: debits 0, credits 1234.50, difference -1234.50",
		}},
		{name: "budget and encumbrance lines need not balance", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[0].ActualFlag = "B"
			l[1].ActualFlag = "E"
			l[1].EncumbranceTypeID = mustInteger(t, "1")
			return l
		}},
		{name: "one ledger source and group", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[1].LedgerID = mustInteger(t, "300000046975972")
			l[1].UserJESourceName = "Manual"
			l[1].GroupID = mustInteger(t, "604")
			return l
		}, want: []string{
			`line 2: ledger_id "300000046975972" differs from "300000046975971" on line 1: one Journal Import run takes one ledger, source and group`,
			`line 2: user_je_source_name "Manual" differs from "Spreadsheet" on line 1: one Journal Import run takes one ledger, source and group`,
			`line 2: group_id "604" differs from "603" on line 1: one Journal Import run takes one ledger, source and group`,
			"journal of group_id 603 dated 2025-09-30 in USD is out of balance: debits 1234.50, credits 0, difference 1234.50",
			"journal of group_id 604 dated 2025-09-30 in USD is out of balance: debits 0, credits 1234.50, difference -1234.50",
		}},
		{name: "bad numbers", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].LedgerID = rawInteger("3e14")
			l[0].GroupID = rawInteger("-603")
			l[0].EncumbranceTypeID = rawInteger("x")
			return l
		}, want: []string{
			`line 1: group_id "-603" is not a positive whole number`,
			`line 1: ledger_id "3e14" is not a positive whole number`,
			`line 1: encumbrance_type_id "x" is not a positive whole number`,
		}},
		{name: "conversion rate", change: func(t testing.TB, l []JournalLine) []JournalLine {
			l[0].CurrencyConversionRate = mustAmount(t, "0")
			l[1].CurrencyConversionRate = rawAmount("3,67")
			return l
		}, want: []string{
			`line 1: currency_conversion_rate "0" is not greater than zero`,
			`line 2: currency_conversion_rate "3,67" is not a plain decimal number`,
		}},
		{name: "currency", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].CurrencyCode, l[1].CurrencyCode = "US$", "US$"
			return l
		}, want: []string{
			`line 1: currency_code "US$" is not a 3-letter ISO currency code such as "AED"`,
			`line 2: currency_code "US$" is not a 3-letter ISO currency code such as "AED"`,
		}},
		{name: "segments", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].Segments = Segments{"", "10"}
			l[1].Segments = append(l[1].Segments, make(Segments, 25)...)
			return l
		}, want: []string{"line 1: segment1 is required", "line 2: segments has 31 entries, more than the limit of 30"}},
		{name: "field lengths", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].UserJESourceName = strings.Repeat("s", 26)
			l[1].UserJESourceName = strings.Repeat("s", 26)
			l[0].UserJECategoryName = strings.Repeat("c", 26)
			l[0].LedgerName = strings.Repeat("l", 31)
			l[0].PeriodName = strings.Repeat("p", 16)
			l[0].Reference1 = strings.Repeat("b", 101)
			l[0].Reference2 = strings.Repeat("d", 241)
			l[0].Reference4 = strings.Repeat("j", 101)
			l[0].Reference10 = strings.Repeat("x", 240) // at the limit
			l[0].Reference30 = strings.Repeat("r", 241)
			l[0].CurrencyConversionType = strings.Repeat("t", 31)
			l[0].AttributeCategory = strings.Repeat("a", 151)
			l[0].Attributes = make([]string, 21)
			l[1].Attributes = []string{strings.Repeat("v", 151)}
			return l
		}, want: []string{
			"line 1: ledger_name is 31 characters long, more than the limit of 30",
			"line 1: period_name is 16 characters long, more than the limit of 15",
			"line 1: user_je_source_name is 26 characters long, more than the limit of 25",
			"line 1: user_je_category_name is 26 characters long, more than the limit of 25",
			"line 1: reference1 is 101 characters long, more than the limit of 100",
			"line 1: reference2 is 241 characters long, more than the limit of 240",
			"line 1: reference4 is 101 characters long, more than the limit of 100",
			"line 1: reference30 is 241 characters long, more than the limit of 240",
			"line 1: user_currency_conversion_type is 31 characters long, more than the limit of 30",
			"line 1: attribute_category is 151 characters long, more than the limit of 150",
			"line 1: attributes has 21 entries, more than the limit of 20",
			"line 2: user_je_source_name is 26 characters long, more than the limit of 25",
			"line 2: attribute1 is 151 characters long, more than the limit of 150",
		}},
		{name: "control character", change: func(_ testing.TB, l []JournalLine) []JournalLine {
			l[0].Reference10 = "rent\r\nSeptember"
			return l
		}, want: []string{"line 1: reference10 contains a line break or another control character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := tt.change(t, validJournal(t))
			err := ValidateJournal(lines)
			checkProblems(t, err, tt.want)
			_, csvErr := JournalCSV(lines)
			if (err == nil) != (csvErr == nil) {
				t.Errorf("ValidateJournal error %v but JournalCSV error %v", err, csvErr)
			}
		})
	}
}

func TestJournalZip(t *testing.T) {
	data, err := JournalZip(validJournal(t))
	if err != nil {
		t.Fatal(err)
	}
	name, content := unzipOne(t, data)
	want, _ := JournalCSV(validJournal(t))
	if name != JournalFileName || !bytes.Equal(content, want) {
		t.Errorf("zip holds %s:\n%s\nwant %s:\n%s", name, content, JournalFileName, want)
	}
	if _, err := JournalZip(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("JournalZip(nil) error = %v, want ErrInvalid", err)
	}
}
