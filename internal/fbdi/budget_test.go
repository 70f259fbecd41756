package fbdi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// validBudget returns a balanced two-line transfer, like the example of docs/design.md#budget-file.
func validBudget(t testing.TB) []BudgetLine {
	t.Helper()
	line := func(n, amount, account string) BudgetLine {
		return BudgetLine{
			SourceBudgetType: "HYPERION",
			SourceBudgetName: "MIC_HQ_MONTHLY",
			BudgetEntryName:  "MIC_HQ_MONTHLY_555",
			LineNumber:       mustInteger(t, n),
			Amount:           mustAmount(t, amount),
			CurrencyCode:     "AED",
			PeriodName:       "Sep-25",
			Segments:         Segments{"10001", "", account},
		}
	}
	return []BudgetLine{line("1", "-650", "5010016"), line("2", "650", "5010021")}
}

func TestBudgetCSVGolden(t *testing.T) {
	m := readMessage[BudgetLine](t, "budget_transfer.json")
	got, err := BudgetCSV(m.Lines)
	if err != nil {
		t.Fatalf("BudgetCSV: %v", err)
	}
	golden(t, "budget_transfer.golden.csv", got)

	// The example line of docs/design.md#budget-file, column for column.
	const oracleExample = "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,1,-650,AED,Sep-25,,10001,,5010016,"
	if !bytes.HasPrefix(got, []byte(oracleExample)) {
		t.Errorf("first row does not start with the documented example line %q:\n%s", oracleExample, got)
	}
	rows := readCSV(t, got, 60)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	second := rows[1]
	for col, want := range map[int]string{
		3:  "2",                            // Line Number from a string
		4:  "650.00",                       // Amount from a string, decimals kept
		8:  "10001",                        // Segment1 from a JSON number
		9:  "",                             // Segment2 from null
		10: "5010021",                      // Segment3
		38: `Move "Q3" funds, per memo 17`, // Comment, after Segment30
	} {
		if second[col] != want {
			t.Errorf("row 2 column %d (%s) = %q, want %q", col+1, budgetColumns[col], second[col], want)
		}
	}
}

func TestBudgetColumns(t *testing.T) {
	c := BudgetColumns()
	if len(c) != 60 {
		t.Fatalf("%d columns, want 60", len(c))
	}
	for i, want := range map[int]string{0: "Source Budget Type", 4: "Amount", 7: "UOM Code", 8: "Segment1",
		37: "Segment30", 38: "Comment", 39: "Attribute Category", 40: "Attribute Char1", 50: "Attribute Number1",
		55: "Attribute Date1", 59: "Attribute Date5"} {
		if c[i] != want {
			t.Errorf("column %d = %q, want %q", i+1, c[i], want)
		}
	}
	c[0] = "changed"
	if BudgetColumns()[0] != "Source Budget Type" {
		t.Error("BudgetColumns returns the package's own slice")
	}
}

func TestBudgetCSVFields(t *testing.T) {
	lines := validBudget(t)
	lines[0].UOMCode = "EA"
	lines[0].Comment = `Move "Q3" funds, per memo`
	lines[0].AttributeCategory = "Transfers"
	lines[0].AttributeChar = []string{"A1", "", "A3"}
	lines[0].AttributeNumber = []Amount{mustAmount(t, "1.50"), {}, mustAmount(t, "-3")}
	lines[0].AttributeDate = []string{"2025-09-30", "", "2025-10-01"}
	lines[1].Segments = Segments{"10001", "", "5010021", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
		"", "", "", "", "", "", "", "", "", "S30"}
	got, err := BudgetCSV(lines)
	if err != nil {
		t.Fatal(err)
	}
	// The comment holds a comma and quotes: one quoted field, quotes doubled.
	if !bytes.Contains(got, []byte(`,"Move ""Q3"" funds, per memo",Transfers,A1,,A3,`)) {
		t.Errorf("comment not quoted as expected:\n%s", got)
	}
	if bytes.Contains(got, []byte("\r")) || !bytes.HasSuffix(got, []byte("\n")) {
		t.Errorf("rows must end with LF only:\n%q", got)
	}
	rows := readCSV(t, got, 60)
	for col, want := range map[int]string{7: "EA", 38: `Move "Q3" funds, per memo`, 39: "Transfers", 40: "A1", 42: "A3",
		49: "", 50: "1.50", 51: "", 52: "-3", 55: "2025/09/30", 56: "", 57: "2025/10/01", 59: ""} {
		if rows[0][col] != want {
			t.Errorf("row 1 column %d (%s) = %q, want %q", col+1, budgetColumns[col], rows[0][col], want)
		}
	}
	if rows[1][37] != "S30" || rows[1][38] != "" {
		t.Errorf("row 2 Segment30 = %q, Comment = %q; want S30 and empty", rows[1][37], rows[1][38])
	}
}

func TestBudgetCSVExactAmounts(t *testing.T) {
	lines := validBudget(t)
	// 0.1 + 0.2 - 0.3 is not 0 in float64; these lines must balance exactly.
	lines[0].Amount = rawAmount("0.1")
	lines[1].Amount = rawAmount("0.2")
	third := lines[1]
	third.LineNumber = mustInteger(t, "3")
	third.Amount = rawAmount("-0.3")
	big := third
	big.LineNumber = mustInteger(t, "4")
	big.Amount = rawAmount("999999999999999999.9999999999")
	bigBack := big
	bigBack.LineNumber = mustInteger(t, "5")
	bigBack.Amount = rawAmount("-999999999999999999.9999999999")
	got, err := BudgetCSV(append(lines, third, big, bigBack))
	if err != nil {
		t.Fatalf("BudgetCSV: %v", err)
	}
	rows := readCSV(t, got, 60)
	for i, want := range []string{"0.1", "0.2", "-0.3", "999999999999999999.9999999999", "-999999999999999999.9999999999"} {
		if rows[i][4] != want {
			t.Errorf("row %d amount = %q, want %q", i+1, rows[i][4], want)
		}
	}
}

func TestValidateBudget(t *testing.T) {
	tests := []struct {
		name   string
		change func(t testing.TB, l []BudgetLine) []BudgetLine
		want   []string // exact problems, in order; nil means valid
	}{
		{name: "valid transfer", change: func(_ testing.TB, l []BudgetLine) []BudgetLine { return l }},
		{name: "no lines", change: func(_ testing.TB, _ []BudgetLine) []BudgetLine { return nil },
			want: []string{"at least one line is required"}},
		{name: "too many lines", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			return make([]BudgetLine, MaxLines+1)
		}, want: []string{"10001 lines is more than the limit of 10000"}},
		{name: "required fields", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[1].SourceBudgetType, l[1].SourceBudgetName, l[1].PeriodName = "", " ", ""
			l[1].LineNumber, l[1].Amount, l[1].CurrencyCode = Integer{}, Amount{}, ""
			return l
		}, want: []string{
			"line 2: source_budget_type is required",
			"line 2: source_budget_name is required",
			"line 2: line_number is required",
			"line 2: amount is required",
			"line 2: currency_code is required",
			"line 2: period_name is required",
		}},
		{name: "missing budget entry name", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].BudgetEntryName = ""
			return l
		}, want: []string{"line 1: budget_entry_name is required", `budget entry "MIC_HQ_MONTHLY_555" nets to 650 AED, but a transfer's lines must net to zero`}},
		{name: "thousands separator in amount", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[1].Amount = rawAmount("1,000")
			return l
		}, want: []string{`line 2: amount "1,000" is not a plain decimal number`}},
		{name: "exponent in amount", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Amount = rawAmount("-6.5e2")
			return l
		}, want: []string{`line 1: amount "-6.5e2" is not a plain decimal number`}},
		{name: "too many decimals", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Amount = rawAmount("-650.00000000001")
			return l
		}, want: []string{`line 1: amount "-650.00000000001" has more than 10 digits after the decimal mark`}},
		{name: "bad line number", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].LineNumber = rawInteger("1.5")
			l[1].LineNumber = rawInteger("0")
			return l
		}, want: []string{`line 1: line_number "1.5" is not a positive whole number`, `line 2: line_number "0" is not a positive whole number`}},
		{name: "duplicate line number", change: func(t testing.TB, l []BudgetLine) []BudgetLine {
			l[1].LineNumber = rawInteger("01")
			return l
		}, want: []string{`line 2: line_number 1 is already used by line 1 of budget entry "MIC_HQ_MONTHLY_555"`}},
		{name: "same line number in another entry", change: func(t testing.TB, l []BudgetLine) []BudgetLine {
			other := validBudget(t)
			for i := range other {
				other[i].BudgetEntryName = "MIC_HQ_MONTHLY_556"
			}
			return append(l, other...)
		}},
		{name: "lines do not net to zero", change: func(t testing.TB, l []BudgetLine) []BudgetLine {
			l[1].Amount = mustAmount(t, "600.50")
			return l
		}, want: []string{`budget entry "MIC_HQ_MONTHLY_555" nets to -49.50 AED, but a transfer's lines must net to zero`}},
		{name: "each entry nets on its own", change: func(t testing.TB, l []BudgetLine) []BudgetLine {
			l[0].BudgetEntryName = "A"
			l[1].BudgetEntryName = "B"
			return l
		}, want: []string{
			`budget entry "A" nets to -650 AED, but a transfer's lines must net to zero`,
			`budget entry "B" nets to 650 AED, but a transfer's lines must net to zero`,
		}},
		{name: "currency differs within entry", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[1].CurrencyCode = "USD"
			return l
		}, want: []string{`line 2: currency_code "USD" differs from "AED" on line 1 of budget entry "MIC_HQ_MONTHLY_555"`}},
		{name: "source budget differs within entry", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[1].SourceBudgetName = "MIC_HQ_YEARLY"
			return l
		}, want: []string{`line 2: source_budget_name "MIC_HQ_YEARLY" differs from "MIC_HQ_MONTHLY" on line 1 of budget entry "MIC_HQ_MONTHLY_555"`}},
		{name: "currency not ISO", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			for i := range l {
				l[i].CurrencyCode = "aed"
			}
			return l
		}, want: []string{
			`line 1: currency_code "aed" is not a 3-letter ISO currency code such as "AED"`,
			`line 2: currency_code "aed" is not a 3-letter ISO currency code such as "AED"`,
		}},
		{name: "currency too long", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].CurrencyCode, l[1].CurrencyCode = "AEDX", "AEDX"
			return l
		}, want: []string{
			`line 1: currency_code "AEDX" is not a 3-letter ISO currency code such as "AED"`,
			`line 2: currency_code "AEDX" is not a 3-letter ISO currency code such as "AED"`,
		}},
		{name: "no segments", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Segments = nil
			return l
		}, want: []string{"line 1: segments is empty: 1 to 30 entries are needed"}},
		{name: "too many segments", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Segments = make(Segments, 31)
			l[0].Segments[0] = "10001"
			return l
		}, want: []string{"line 1: segments has 31 entries, more than the limit of 30"}},
		{name: "segment1 empty", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Segments[0] = ""
			return l
		}, want: []string{"line 1: segment1 is required"}},
		{name: "segment too long", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Segments[2] = strings.Repeat("9", 26)
			return l
		}, want: []string{"line 1: segment3 is 26 characters long, more than the limit of 25"}},
		{name: "field lengths", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			for i := range l {
				l[i].SourceBudgetType = strings.Repeat("T", 31)
				l[i].SourceBudgetName = strings.Repeat("é", 101) // characters, not bytes
				l[i].BudgetEntryName = strings.Repeat("E", 501)
			}
			l[0].PeriodName = "September-2025-X"
			l[0].UOMCode = "EACH"
			l[0].Comment = strings.Repeat("c", 241)
			return l
		}, want: []string{
			"line 1: source_budget_type is 31 characters long, more than the limit of 30",
			"line 1: source_budget_name is 101 characters long, more than the limit of 100",
			"line 1: budget_entry_name is 501 characters long, more than the limit of 500",
			"line 1: period_name is 16 characters long, more than the limit of 15",
			"line 1: uom_code is 4 characters long, more than the limit of 3",
			"line 1: comment is 241 characters long, more than the limit of 240",
			"line 2: source_budget_type is 31 characters long, more than the limit of 30",
			"line 2: source_budget_name is 101 characters long, more than the limit of 100",
			"line 2: budget_entry_name is 501 characters long, more than the limit of 500",
		}},
		{name: "line break in comment", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Comment = "first\nsecond"
			l[1].PeriodName = "Sep-25\r"
			return l
		}, want: []string{
			"line 1: comment contains a line break or another control character",
			"line 2: period_name contains a line break or another control character",
		}},
		{name: "invalid UTF-8", change: func(_ testing.TB, l []BudgetLine) []BudgetLine {
			l[0].Comment = "caf\xe9"
			return l
		}, want: []string{"line 1: comment is not valid UTF-8"}},
		{name: "descriptive flexfield", change: func(t testing.TB, l []BudgetLine) []BudgetLine {
			l[0].AttributeCategory = strings.Repeat("x", 151)
			l[0].AttributeChar = make([]string, 11)
			l[0].AttributeNumber = []Amount{mustAmount(t, "1"), rawAmount("1,5")}
			l[0].AttributeDate = []string{"2025-09-30", "30/09/2025", "2025-02-30"}
			l[1].AttributeChar = []string{"ok", strings.Repeat("y", 151)}
			l[1].AttributeNumber = make([]Amount, 6)
			l[1].AttributeDate = make([]string, 6)
			return l
		}, want: []string{
			"line 1: attribute_category is 151 characters long, more than the limit of 150",
			"line 1: attribute_char has 11 entries, more than the limit of 10",
			`line 1: attribute_number2 "1,5" is not a plain decimal number`,
			`line 1: attribute_date2 "30/09/2025" is not a date written YYYY-MM-DD`,
			`line 1: attribute_date3 "2025-02-30" is not a date written YYYY-MM-DD`,
			"line 2: attribute_char2 is 151 characters long, more than the limit of 150",
			"line 2: attribute_number has 6 entries, more than the limit of 5",
			"line 2: attribute_date has 6 entries, more than the limit of 5",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := tt.change(t, validBudget(t))
			err := ValidateBudget(lines)
			checkProblems(t, err, tt.want)
			_, csvErr := BudgetCSV(lines)
			if (err == nil) != (csvErr == nil) {
				t.Errorf("ValidateBudget error %v but BudgetCSV error %v", err, csvErr)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	lines := validBudget(t)
	lines[1].Amount = rawAmount("1,000")
	_, err := BudgetCSV(lines)
	if want := `fbdi: line 2: amount "1,000" is not a plain decimal number`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("error does not wrap ErrInvalid")
	}
}

func TestValidationErrorCapsProblems(t *testing.T) {
	lines := make([]BudgetLine, 60) // every line lacks its 7 required fields, and its segments
	err := ValidateBudget(lines)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	if len(ve.Problems) != MaxProblems || ve.Omitted != 60*8-MaxProblems {
		t.Errorf("kept %d problems and omitted %d; want %d and %d", len(ve.Problems), ve.Omitted, MaxProblems, 60*8-MaxProblems)
	}
	for _, p := range ve.Problems {
		if strings.Contains(p, ";") {
			t.Errorf("problem %q contains ';', the separator Error uses", p)
		}
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "fbdi: line 1: source_budget_type is required; line 1: source_budget_name is required;") {
		t.Errorf("message starts %.120q", msg)
	}
	if want := fmt.Sprintf("; and %d more", 60*8-10); !strings.HasSuffix(msg, want) || strings.Count(msg, "; ") != 10 {
		t.Errorf("message = %q, want 10 problems then %q", msg, want)
	}
}

func TestBudgetZip(t *testing.T) {
	data, err := BudgetZip(validBudget(t))
	if err != nil {
		t.Fatal(err)
	}
	name, content := unzipOne(t, data)
	want, _ := BudgetCSV(validBudget(t))
	if name != BudgetFileName || !bytes.Equal(content, want) {
		t.Errorf("zip holds %s:\n%s\nwant %s:\n%s", name, content, BudgetFileName, want)
	}
	if _, err := BudgetZip(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("BudgetZip(nil) error = %v, want ErrInvalid", err)
	}
}

// bigBudget returns n/2 balanced pairs of lines in one budget entry.
func bigBudget(b testing.TB, n int) []BudgetLine {
	lines := make([]BudgetLine, n)
	for i := range lines {
		amount := "1234.56"
		if i%2 == 1 {
			amount = "-1234.56"
		}
		lines[i] = BudgetLine{
			SourceBudgetType: "HYPERION", SourceBudgetName: "MIC_HQ_MONTHLY", BudgetEntryName: "MIC_HQ_MONTHLY_555",
			LineNumber: mustInteger(b, fmt.Sprint(i+1)), Amount: mustAmount(b, amount), CurrencyCode: "AED",
			PeriodName: "Sep-25", Segments: Segments{"10001", "", fmt.Sprint(5010000 + i), "000", "000"},
			Comment: "Quarterly reallocation, see memo",
		}
	}
	return lines
}

func TestBudgetCSVMaxLines(t *testing.T) {
	got, err := BudgetCSV(bigBudget(t, MaxLines))
	if err != nil {
		t.Fatal(err)
	}
	if rows := readCSV(t, got, 60); len(rows) != MaxLines {
		t.Errorf("%d rows, want %d", len(rows), MaxLines)
	}
}

func BenchmarkBudgetCSV(b *testing.B) {
	lines := bigBudget(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BudgetCSV(lines); err != nil {
			b.Fatal(err)
		}
	}
}
