package oracle

import "testing"

func TestESSParameters(t *testing.T) {
	tests := []struct {
		name   string
		params []string
		want   string
	}{
		{name: "no parameters", params: nil, want: ""},
		{name: "interface loader", params: []string{"51", "900001", "N", "N"}, want: "51,900001,N,N"},
		{name: "empty value is #NULL", params: []string{"HYPERION", "", "X"}, want: "HYPERION,#NULL,X"},
		{name: "only empty values", params: []string{"", ""}, want: "#NULL,#NULL"},
		{name: "comma is quoted", params: []string{"A,B", "C"}, want: `"A,B",C`},
		{name: "quote is doubled inside quotes", params: []string{`say "hi", then go`}, want: `"say ""hi"", then go"`},
		{name: "lone quote is quoted too", params: []string{`5" pipe`}, want: `"5"" pipe"`},
		{name: "spaces are kept", params: []string{" a ", "b c"}, want: " a ,b c"},
		{name: "budget import", params: []string{"HYPERION", "MIC_HQ_MONTHLY", "MIC_HQ_MONTHLY_555", "INCREMENT", "", "ESS", "XCC", "ADJUST_BUDGET", "NA"},
			want: "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,INCREMENT,#NULL,ESS,XCC,ADJUST_BUDGET,NA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Job{Params: tt.params}).ESSParameters(); got != tt.want {
				t.Errorf("ESSParameters(%q) = %s, want %s", tt.params, got, tt.want)
			}
		})
	}
}
