package workflow

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/finance/fbdi-notify/internal/lambdaenv"
	"github.com/finance/fbdi-notify/internal/oracle"
)

// JobSpec names an ESS job and the template of its positional parameters.
//
// Params is a comma-separated list; each parameter may hold {name}
// placeholders, replaced by the values listed at Config. A value is inserted
// as one parameter even if it contains a comma (the Oracle client quotes it),
// is never scanned for placeholders itself, and may not contain control
// characters. An empty parameter is sent as #NULL. A placeholder without a
// value is an error, so that a job never runs with a silently missing
// argument.
type JobSpec struct {
	Package    string // ESS job package path, e.g. /oracle/apps/ess/financials/generalLedger/programs/common/
	Definition string // ESS job definition name, e.g. JournalImportLauncher
	Params     string // parameter template, e.g. "{interface_options_id},{document_id},N,N"
}

// ESS job packages of docs/design.md#jobs-and-parameters.
const (
	LoaderPackage       = "/oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/"
	BudgetImportPackage = "/oracle/apps/ess/financials/commitmentControl/integration/budgetImport/"
	GeneralLedgerPkg    = "/oracle/apps/ess/financials/generalLedger/programs/common/"
)

// Config holds the Oracle parameters and timings of the workflows. Start
// from DefaultConfig and change what differs; a message's Options override
// the parameters for that message only.
//
// Placeholders available to every parameter template:
//
//	{transaction_id}        the upstream transaction ID
//	{document_id}           the UCM DocumentId of the uploaded zip
//	{interface_options_id}  BudgetInterfaceOptionsID or JournalInterfaceOptionsID
//	{source_budget_type}    budget_transfer: the lines' source_budget_type
//	{source_budget}         budget_transfer: the lines' source_budget_name
//	{budget_entry_name}     budget_transfer: the lines' budget_entry_name
//	{data_access_set}       journal_import: DataAccessSet
//	{source}                journal_import: the lines' user_je_source_name
//	{ledger_id}             journal_import: the lines' ledger_id
//	{group_id}              journal_import: the lines' group_id
//	{autopost_criteria_id}  journal_import: AutoPostCriteriaID
//
// A value taken from the lines must be the same on every line.
type Config struct {
	// QueueURL is the workflow queue, to which poll messages are sent. Required.
	QueueURL string

	BudgetAccount  string // UCM account of budget files; default fin$/budgetaryControl$/import$
	JournalAccount string // UCM account of journal files; default fin$/generalLedger$/import$

	Loader                    JobSpec // InterfaceLoaderController, "{interface_options_id},{document_id},N,N"
	BudgetInterfaceOptionsID  string  // default 51 (XCC_BUDGET_INTERFACE on the reference instance)
	JournalInterfaceOptionsID string  // default 15 (GL_INTERFACE on the reference instance)

	BudgetImport  JobSpec // BudgetImport, "HYPERION,{source_budget},{budget_entry_name},INCREMENT,,ESS,XCC,ADJUST_BUDGET,NA"
	JournalImport JobSpec // JournalImportLauncher, "{data_access_set},{source},{ledger_id},{group_id},N,N"
	AutoPost      JobSpec // AutomaticPosting, "{autopost_criteria_id}"

	DataAccessSet      string // no default: set it, or send options.data_access_set, for journal imports
	AutoPostCriteriaID string // no default: set it, or send options.autopost_criteria_id, for journal imports

	PollInterval time.Duration // between two status polls of a running job; default 10s, 0 polls at once
	Deadline     time.Duration // how long one job may run before the workflow fails; default 2h
	Lease        time.Duration // lease of an Oracle call's intent when the context has no deadline; default 15m
	Retention    time.Duration // how long a workflow item is kept after its last change (TTL); default 30 days

	// MaxAttempts is how many calls of one step Oracle may decline (HTTP
	// 5xx, 408, 429, connection refused for an upload or a submission; any
	// transient failure of a status or log read) before the workflow fails
	// saying Oracle was unavailable. Each one before that is retried after
	// a delay with exponential backoff and full jitter: a random wait up to
	// RetryBase doubled at each attempt, at most RetryMax (and SQS's
	// MaxDelay), through a delayed continuation message. The step's
	// Deadline bounds the retries too. Defaults 10, 5s and 60s.
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration

	// MaxReceives is the workflow queue's maxReceiveCount: on that delivery
	// of a message, a panic or an error that SQS would retry fails the
	// workflow with a cause instead, since the redrive policy moves the
	// message to the dead-letter queue next. 0 disables it. Default 5.
	MaxReceives int
	// OracleTimeout is the Oracle HTTP client's per-request timeout, and
	// CheckpointReserve the time kept after it to record Oracle's answer:
	// an invocation with less than their sum left does not call Oracle but
	// continues in a new invocation. Defaults oracle.DefaultTimeout and 10s.
	OracleTimeout     time.Duration
	CheckpointReserve time.Duration
	// SweepGrace is how long after a workflow's next step was due (its poll
	// message, or the redelivery of a running step) the Sweeper steps in.
	// Default 2m.
	SweepGrace time.Duration
}

// DefaultConfig returns the configuration of docs/design.md#jobs-and-parameters,
// without QueueURL.
func DefaultConfig() Config {
	return Config{
		BudgetAccount:  "fin$/budgetaryControl$/import$",
		JournalAccount: "fin$/generalLedger$/import$",
		Loader: JobSpec{Package: LoaderPackage, Definition: "InterfaceLoaderController",
			Params: "{interface_options_id},{document_id},N,N"},
		BudgetInterfaceOptionsID:  "51",
		JournalInterfaceOptionsID: "15",
		BudgetImport: JobSpec{Package: BudgetImportPackage, Definition: "BudgetImport",
			Params: "HYPERION,{source_budget},{budget_entry_name},INCREMENT,,ESS,XCC,ADJUST_BUDGET,NA"},
		JournalImport: JobSpec{Package: GeneralLedgerPkg, Definition: "JournalImportLauncher",
			Params: "{data_access_set},{source},{ledger_id},{group_id},N,N"},
		AutoPost:     JobSpec{Package: GeneralLedgerPkg, Definition: "AutomaticPosting", Params: "{autopost_criteria_id}"},
		PollInterval: DefaultPollInterval,
		Deadline:     DefaultDeadline,
		Lease:        DefaultLease,
		Retention:    DefaultRetention,
		MaxAttempts:  DefaultMaxAttempts,
		RetryBase:    DefaultRetryBase,
		RetryMax:     DefaultRetryMax,

		MaxReceives:       DefaultMaxReceives,
		OracleTimeout:     oracle.DefaultTimeout,
		CheckpointReserve: DefaultCheckpointReserve,
		SweepGrace:        DefaultSweepGrace,
	}
}

// Validate reports the first problem of c: a missing queue URL, account or
// job, a template that does not parse, or a duration out of range.
func (c Config) Validate() error {
	var errs []error
	if c.QueueURL == "" {
		errs = append(errs, errors.New("QueueURL is required"))
	}
	if c.BudgetAccount == "" || c.JournalAccount == "" {
		errs = append(errs, errors.New("BudgetAccount and JournalAccount are required"))
	}
	for name, j := range map[string]JobSpec{"Loader": c.Loader, "BudgetImport": c.BudgetImport,
		"JournalImport": c.JournalImport, "AutoPost": c.AutoPost} {
		if j.Package == "" || j.Definition == "" {
			errs = append(errs, fmt.Errorf("%s: package and definition are required", name))
		}
		if _, err := parseTemplate(j.Params); err != nil {
			errs = append(errs, fmt.Errorf("%s params: %w", name, err))
		}
	}
	if c.PollInterval < 0 || c.Deadline <= 0 || c.Lease <= 0 || c.Retention <= 0 || c.MaxAttempts < 1 {
		errs = append(errs, errors.New("PollInterval must be >= 0; Deadline, Lease, Retention and MaxAttempts > 0"))
	}
	if c.RetryBase <= 0 || c.RetryMax < c.RetryBase {
		errs = append(errs, errors.New("RetryBase must be > 0 and RetryMax >= RetryBase"))
	}
	if c.MaxReceives < 0 || c.OracleTimeout < 0 || c.CheckpointReserve < 0 || c.SweepGrace <= 0 {
		errs = append(errs, errors.New("MaxReceives, OracleTimeout and CheckpointReserve must be >= 0; SweepGrace > 0"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("workflow: config: %w", err)
	}
	return nil
}

// delaySeconds is the SQS DelaySeconds of a poll message: PollInterval
// rounded up to a second, at most MaxDelay.
func (c Config) delaySeconds() int32 { return delaySeconds(c.PollInterval) }

// delaySeconds is the SQS DelaySeconds of a message delivered after d:
// rounded up to a second, between 0 and MaxDelay.
func delaySeconds(d time.Duration) int32 {
	d = max(min(d, MaxDelay), 0)
	return int32(math.Ceil(d.Seconds()))
}

// template is a parsed parameter template: one entry per parameter, each a
// sequence of literal text and placeholder names.
type template [][]piece

type piece struct {
	text string // literal text, when name is ""
	name string // placeholder name
}

// parseTemplate splits s at commas and finds its {name} placeholders. Names
// are lower-case letters, digits and '_'. An empty template has no parameters.
func parseTemplate(s string) (template, error) {
	if s == "" {
		return nil, nil
	}
	var t template
	for i, param := range strings.Split(s, ",") {
		var ps []piece
		for param != "" {
			open := strings.IndexByte(param, '{')
			if end := strings.IndexByte(param, '}'); end >= 0 && (open < 0 || end < open) {
				return nil, fmt.Errorf("parameter %d: unmatched '}'", i+1)
			}
			if open < 0 {
				ps = append(ps, piece{text: param})
				break
			}
			if open > 0 {
				ps = append(ps, piece{text: param[:open]})
			}
			end := strings.IndexByte(param[open:], '}')
			if end < 0 {
				return nil, fmt.Errorf("parameter %d: unmatched '{'", i+1)
			}
			name := param[open+1 : open+end]
			if name == "" || strings.IndexFunc(name, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
			}) >= 0 {
				return nil, fmt.Errorf("parameter %d: bad placeholder {%s}", i+1, name)
			}
			ps = append(ps, piece{name: name})
			param = param[open+end+1:]
		}
		t = append(t, ps)
	}
	return t, nil
}

// render returns the parameters of t with each placeholder replaced by its
// value in vars. A placeholder that vars lacks or holds empty is an error
// whose text hints where the value comes from; so is a value holding a
// control character.
func (t template) render(vars map[string]string) ([]string, error) {
	params := make([]string, len(t))
	for i, ps := range t {
		var b strings.Builder
		for _, p := range ps {
			if p.name == "" {
				b.WriteString(p.text)
				continue
			}
			v, ok := vars[p.name]
			if !ok {
				return nil, fmt.Errorf("parameter %d: unknown placeholder {%s}", i+1, p.name)
			}
			if v == "" {
				return nil, fmt.Errorf("parameter %d: {%s} has no value%s", i+1, p.name, hint(p.name))
			}
			if strings.IndexFunc(v, unicode.IsControl) >= 0 {
				return nil, fmt.Errorf("parameter %d: the value of {%s} contains a control character", i+1, p.name)
			}
			b.WriteString(v)
		}
		params[i] = b.String()
	}
	return params, nil
}

// hint tells where the value of a placeholder comes from.
func hint(name string) string {
	switch name {
	case "data_access_set", "autopost_criteria_id":
		return fmt.Sprintf(" (configure it or send options.%s)", name)
	case "source":
		return " (give every line a user_je_source_name or send options.source)"
	case "ledger_id", "group_id":
		return fmt.Sprintf(" (give every line a %s or send options.%s)", name, name)
	case "interface_options_id":
		return " (configure it or send options.interface_options_id)"
	}
	return ""
}

// ReadShared sets what the WorkerFunction and the SweeperFunction must read
// alike, so that both reckon a workflow's due time the same way: QueueURL
// (WORKFLOW_QUEUE_URL, required), PollInterval (ORACLE_POLL_INTERVAL) and
// Deadline (WORKFLOW_DEADLINE, more than 0). Problems are recorded on env.
func (c *Config) ReadShared(env *lambdaenv.Env) {
	c.QueueURL = env.URL("WORKFLOW_QUEUE_URL")
	c.PollInterval = env.Duration("ORACLE_POLL_INTERVAL", c.PollInterval)
	if c.Deadline = env.Duration("WORKFLOW_DEADLINE", c.Deadline); c.Deadline == 0 {
		env.Problem("WORKFLOW_DEADLINE must be more than 0")
	}
}
