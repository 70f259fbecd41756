package workflow

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTemplateRender(t *testing.T) {
	vars := map[string]string{"interface_options_id": "51", "document_id": "900001", "source_budget": "MIC, HQ",
		"budget_entry_name": "{document_id}", "empty": "", "ctl": "a\nb"}
	tests := []struct {
		name    string
		tmpl    string
		want    []string
		wantErr string
	}{
		{name: "loader default", tmpl: "{interface_options_id},{document_id},N,N", want: []string{"51", "900001", "N", "N"}},
		{name: "budget default keeps empty parameter", tmpl: DefaultConfig().BudgetImport.Params,
			want: []string{"HYPERION", "MIC, HQ", "{document_id}", "INCREMENT", "", "ESS", "XCC", "ADJUST_BUDGET", "NA"}},
		{name: "value with comma is one parameter", tmpl: "{source_budget}", want: []string{"MIC, HQ"}},
		{name: "value is not expanded again", tmpl: "x{budget_entry_name}y", want: []string{"x{document_id}y"}},
		{name: "no parameters", tmpl: "", want: []string{}},
		{name: "unknown placeholder", tmpl: "{nope}", wantErr: "unknown placeholder {nope}"},
		{name: "empty value", tmpl: "N,{empty}", wantErr: "parameter 2: {empty} has no value"},
		{name: "control character", tmpl: "{ctl}", wantErr: "control character"},
		{name: "unmatched open", tmpl: "{document_id", wantErr: "unmatched '{'"},
		{name: "unmatched close", tmpl: "document_id}", wantErr: "unmatched '}'"},
		{name: "bad name", tmpl: "{Document Id}", wantErr: "bad placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := parseTemplate(tt.tmpl)
			var got []string
			if err == nil {
				got, err = tm.render(vars)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHintNamesTheOption(t *testing.T) {
	tm, _ := parseTemplate("{data_access_set}")
	_, err := tm.render(map[string]string{"data_access_set": ""})
	if err == nil || !strings.Contains(err.Error(), "options.data_access_set") {
		t.Fatalf("err = %v, want a hint naming options.data_access_set", err)
	}
}

func TestDelaySeconds(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		want     int32
	}{
		{name: "zero", interval: 0, want: 0},
		{name: "default", interval: DefaultPollInterval, want: 10},
		{name: "fraction rounds up", interval: 1500 * time.Millisecond, want: 2},
		{name: "capped at the SQS maximum", interval: time.Hour, want: 900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.PollInterval = tt.interval
			if got := c.delaySeconds(); got != tt.want {
				t.Fatalf("delaySeconds = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{name: "defaults with a queue", change: func(*Config) {}},
		{name: "no queue", change: func(c *Config) { c.QueueURL = "" }, wantErr: "QueueURL"},
		{name: "bad template", change: func(c *Config) { c.AutoPost.Params = "{x" }, wantErr: "AutoPost params"},
		{name: "no definition", change: func(c *Config) { c.Loader.Definition = "" }, wantErr: "Loader"},
		{name: "negative poll interval", change: func(c *Config) { c.PollInterval = -1 }, wantErr: "PollInterval"},
		{name: "zero attempts", change: func(c *Config) { c.MaxAttempts = 0 }, wantErr: "MaxAttempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.QueueURL = "https://sqs/q"
			tt.change(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultConfigMatchesOracleDoc(t *testing.T) {
	c := DefaultConfig()
	checks := []struct{ name, got, want string }{
		{"budget account", c.BudgetAccount, "fin$/budgetaryControl$/import$"},
		{"journal account", c.JournalAccount, "fin$/generalLedger$/import$"},
		{"loader package", c.Loader.Package, "/oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/"},
		{"loader definition", c.Loader.Definition, "InterfaceLoaderController"},
		{"budget options id", c.BudgetInterfaceOptionsID, "51"},
		{"journal options id", c.JournalInterfaceOptionsID, "15"},
		{"budget import package", c.BudgetImport.Package, "/oracle/apps/ess/financials/commitmentControl/integration/budgetImport/"},
		{"journal import", c.JournalImport.Package + c.JournalImport.Definition,
			"/oracle/apps/ess/financials/generalLedger/programs/common/JournalImportLauncher"},
		{"autopost", c.AutoPost.Package + c.AutoPost.Definition,
			"/oracle/apps/ess/financials/generalLedger/programs/common/AutomaticPosting"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}
