// Package oraclesim simulates the Oracle Fusion ERP Integrations REST resource
// for tests and for the local stack: uploads to UCM, ESS job submissions, job
// status, job trees and log zips, with scripted faults and outcomes.
//
// A Sim is an http.Handler; serve it with httptest.NewServer(sim) or mount it
// (http.StripPrefix works) in the local stack. It serves
//
//	POST {prefix}/fscmRestApi/resources/{version}/erpintegrations   OperationName uploadFileToUCM, submitESSJobRequest
//	GET  {prefix}/fscmRestApi/resources/{version}/erpintegrations?finder=ESSJobStatusRF;requestId={id}
//	GET  ...?finder=ESSExecutionDetailsRF;requestId={id}
//	GET  ...?finder=ESSJobExecutionDetailsRF;requestId={id},fileType=ALL|LOG|OUT
//	GET  {prefix}/ess/rest/scheduler/v1/requests/{id}                (older ESS REST status)
//
// Jobs follow the injected clock: WAIT for Options.WaitFor after submission,
// then RUNNING for Options.RunFor (or Outcome.RunFor), then the terminal state
// of their Outcome. Tests advance the clock instead of sleeping.
//
// A Sim is safe for concurrent use.
package oraclesim

import (
	"archive/zip"
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/finance/fbdi-notify/internal/oracle"
)

// Operation names, for FailNext and Calls. The POST operations are named by
// their OperationName, the finders by their finder name.
const (
	OpUpload           = oracle.OpUploadFileToUCM        // POST uploadFileToUCM
	OpSubmit           = oracle.OpSubmitESSJobRequest    // POST submitESSJobRequest
	OpJobStatus        = oracle.FinderJobStatus          // GET finder ESSJobStatusRF
	OpExecutionDetails = oracle.FinderExecutionDetails   // GET finder ESSExecutionDetailsRF
	OpJobLog           = oracle.FinderJobExecutionDetail // GET finder ESSJobExecutionDetailsRF
	OpSchedulerStatus  = "schedulerRequest"              // GET /ess/rest/scheduler/v1/requests/{id}
	OpAny              = "*"                             // FailNext only: whichever operation comes next
	OpInvalid          = "invalid"                       // Calls only: requests answered 4xx before an operation was known
)

// Defaults for Options.
const (
	DefaultWaitFor = 500 * time.Millisecond
	DefaultRunFor  = 1500 * time.Millisecond
	DefaultMaxHang = 10 * time.Second
)

// Well-known job definitions the simulator gives special defaults.
const (
	InterfaceLoaderDefinition = "InterfaceLoaderController"
	BudgetImportDefinition    = "BudgetImport"
)

// Limits on what a request may make the simulator hold.
const (
	maxRequestBody = 100 << 20 // bytes of a POST body
	maxUnzipped    = 50 << 20  // uncompressed bytes kept of one uploaded zip
)

// Options configure a Sim. The zero value works: no auth check, real clock,
// default timings, no logging.
type Options struct {
	Username    string           // Basic auth user; when Username and Password are both empty any caller is accepted
	Password    string           // Basic auth password
	BearerToken string           // when set, "Authorization: Bearer <BearerToken>" is accepted too
	Now         func() time.Time // clock; default time.Now
	WaitFor     time.Duration    // time a job stays WAIT; default DefaultWaitFor
	RunFor      time.Duration    // time a job stays RUNNING; default DefaultRunFor
	MaxHang     time.Duration    // longest a Timeout fault holds a request; default DefaultMaxHang
	Logger      *slog.Logger     // default discards
}

// Outcome scripts how jobs of one definition end.
type Outcome struct {
	State      oracle.State  // terminal state; default SUCCEEDED
	ChildState oracle.State  // when set, the job has one child job that ends in this state
	ChildName  string        // the child's job name; default "<definition>Child"
	Log        string        // text placed in the job's .log file
	ChildLog   string        // text placed in the child's .log file
	RunFor     time.Duration // how long the job stays RUNNING; default Options.RunFor
}

// Upload is a document received by uploadFileToUCM.
type Upload struct {
	DocumentID string
	FileName   string
	Account    string
	Content    []byte            // the zip as uploaded
	Files      map[string][]byte // the zip's files by name; nil if Content is not a zip
}

// Submission is an ESS job created by submitESSJobRequest.
type Submission struct {
	RequestID  string
	Package    string
	Definition string
	Params     string // ESSParameters exactly as received
}

// Sim is a simulated Oracle ERP Integrations endpoint.
type Sim struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	mu          sync.Mutex
	nextDoc     int64
	nextReq     int64
	uploads     []Upload
	docs        map[string]int // DocumentID -> index in uploads
	submissions []Submission
	jobs        map[string]*job
	calls       map[string]int
	faults      map[string][]pendingFault
	outcomes    map[string]Outcome
	down        bool // SetDown: every request is answered 503
}

// job is one ESS request, parent or child.
type job struct {
	id         string
	pkg        string
	definition string
	params     string
	submitted  time.Time
	outcome    Outcome
	parentID   string
	children   []string
	out        string // content of the .out file
}

// New returns a Sim configured by opts.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WaitFor <= 0 {
		opts.WaitFor = DefaultWaitFor
	}
	if opts.RunFor <= 0 {
		opts.RunFor = DefaultRunFor
	}
	if opts.MaxHang <= 0 {
		opts.MaxHang = DefaultMaxHang
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opts:     opts,
		log:      logger,
		nextDoc:  900001,
		nextReq:  14557,
		docs:     map[string]int{},
		jobs:     map[string]*job{},
		calls:    map[string]int{},
		faults:   map[string][]pendingFault{},
		outcomes: map[string]Outcome{},
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /fscmRestApi/resources/{version}/erpintegrations", s.handlePost)
	s.mux.HandleFunc("GET /fscmRestApi/resources/{version}/erpintegrations", s.handleFinder)
	s.mux.HandleFunc("GET /ess/rest/scheduler/v1/requests/{id}", s.handleScheduler)
	return s
}

// ServeHTTP serves the simulated endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetOutcome scripts how jobs of definition end from now on. It replaces the
// defaults entirely: a BudgetImport outcome without ChildState has no child.
func (s *Sim) SetOutcome(definition string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[definition] = o
}

// Uploads returns the documents received so far, oldest first.
func (s *Sim) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.uploads))
	copy(out, s.uploads)
	return out
}

// Submissions returns the jobs submitted so far, oldest first (child jobs the
// simulator creates itself are not submissions).
func (s *Sim) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Submission, len(s.submissions))
	copy(out, s.submissions)
	return out
}

// Calls returns how many requests for op the simulator has received,
// including those answered with a fault or a 401.
func (s *Sim) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Requests returns how many requests the simulator has received, of every
// operation, including those answered with a fault, a 401 or 503 while down.
func (s *Sim) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// SetDown makes the simulator answer every request with 503 Service
// Unavailable (after counting it) while down is true, as an Oracle outage.
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// MaxConcurrentJobs returns the most submitted jobs that were WAIT or
// RUNNING at the same time, by the simulator's clock (child jobs the
// simulator creates itself are not counted).
func (s *Sim) MaxConcurrentJobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, sub := range s.submissions {
		j, ok := s.jobs[sub.RequestID]
		if !ok {
			continue
		}
		runFor := j.outcome.RunFor
		if runFor <= 0 {
			runFor = s.opts.RunFor
		}
		edges = append(edges, edge{j.submitted, 1}, edge{j.submitted.Add(s.opts.WaitFor + runFor), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	most, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		most = max(most, cur)
	}
	return most
}

// JobState returns the current state of a request and whether it exists.
func (s *Sim) JobState(requestID string) (oracle.State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[requestID]
	if !ok {
		return "", false
	}
	return s.stateLocked(j, s.opts.Now()), true
}

// handlePost serves the three POST operations.
func (s *Sim) handlePost(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") &&
		!strings.EqualFold(strings.TrimSpace(mt), "application/vnd.oracle.adf.resourceitem+json") {
		s.count(OpInvalid)
		s.writeText(w, http.StatusUnsupportedMediaType, "Unsupported media type "+ct)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		s.count(OpInvalid)
		s.writeText(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		s.count(OpInvalid)
		s.writeText(w, http.StatusBadRequest, "The request body is not valid JSON.")
		return
	}
	op, _ := body["OperationName"].(string)
	switch op {
	case OpUpload, OpSubmit:
	default:
		s.count(OpInvalid)
		s.writeText(w, http.StatusBadRequest, fmt.Sprintf("Unknown OperationName %q.", op))
		return
	}
	if !s.admit(w, r, op) {
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }

	switch op {
	case OpUpload:
		up, status, msg := s.upload(str("DocumentContent"), str("FileName"), str("DocumentAccount"))
		if status != 0 {
			s.writeText(w, status, msg)
			return
		}
		body["DocumentId"] = up.DocumentID
		body["DocumentContent"] = nil
		s.writeJSON(w, http.StatusCreated, body)

	case OpSubmit:
		pkg, def := str("JobPackageName"), str("JobDefName")
		if pkg == "" || def == "" {
			s.writeText(w, http.StatusBadRequest, "JobPackageName and JobDefName are required.")
			return
		}
		id := s.submit(pkg, def, str("ESSParameters"))
		body["ReqstId"] = id
		s.writeJSON(w, http.StatusCreated, body)

	}
}

// handleFinder serves the GET finders. The finder is read from the raw query:
// net/url does not split "finder=Name;k=v,k=v" (it treats ';' as invalid), and
// Oracle's syntax must be parsed as a whole. Percent-encoded delimiters are
// accepted too.
func (s *Sim) handleFinder(w http.ResponseWriter, r *http.Request) {
	name, vars, ok := parseFinder(r.URL.RawQuery)
	if !ok {
		s.count(OpInvalid)
		s.writeText(w, http.StatusBadRequest, "A finder is required, e.g. finder=ESSJobStatusRF;requestId=1.")
		return
	}
	switch name {
	case OpJobStatus, OpExecutionDetails, OpJobLog:
	default:
		s.count(OpInvalid)
		s.writeText(w, http.StatusBadRequest, fmt.Sprintf("Unknown finder %q.", name))
		return
	}
	if !s.admit(w, r, name) {
		return
	}
	id := vars["requestid"]
	s.mu.Lock()
	j, found := s.jobs[id]
	var item map[string]any
	if found {
		now := s.opts.Now()
		switch name {
		case OpJobStatus:
			item = map[string]any{"OperationName": "getESSJobStatus", "ReqstId": id,
				"RequestStatus": string(s.stateLocked(j, now))}
		case OpExecutionDetails:
			tree, _ := json.Marshal(map[string]any{"JOBS": s.treeLocked(j, now, 0)})
			item = map[string]any{"OperationName": "getESSExecutionDetails", "ReqstId": id,
				"RequestStatus": string(tree)}
		case OpJobLog:
			zipData := s.logZipLocked(j, now, strings.ToUpper(vars["filetype"]))
			item = map[string]any{"OperationName": "downloadESSJobExecutionDetails", "ReqstId": id,
				"DocumentContent": base64.StdEncoding.EncodeToString(zipData),
				"ContentType":     "zip", "FileName": id + ".zip"}
		}
	}
	s.mu.Unlock()
	items := []any{}
	if item != nil {
		items = append(items, item)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "hasMore": false,
		"limit": 25, "offset": 0})
}

// handleScheduler serves the older ESS REST request status.
func (s *Sim) handleScheduler(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, OpSchedulerStatus) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	j, ok := s.jobs[id]
	var resp map[string]any
	if ok {
		st := s.stateLocked(j, s.opts.Now())
		n, _ := strconv.ParseInt(id, 10, 64)
		resp = map[string]any{"requestId": n, "state": string(st), "stateDescription": describe(st),
			"jobDefinitionId": "JobDefinition://" + strings.TrimSuffix(j.pkg, "/") + "/" + j.definition}
		if j.parentID != "" {
			p, _ := strconv.ParseInt(j.parentID, 10, 64)
			resp["parentRequestId"] = p
		}
	}
	s.mu.Unlock()
	if !ok {
		s.writeText(w, http.StatusNotFound, "Request "+id+" not found.")
		return
	}
	s.writeJSON(w, http.StatusOK, resp)
}

// admit counts the call, checks credentials and applies a scripted fault. It
// reports whether the request should be served normally.
func (s *Sim) admit(w http.ResponseWriter, r *http.Request, op string) bool {
	s.count(op)
	if !s.authorized(r) {
		s.log.Info("oracle sim: unauthorized", "op", op)
		w.Header().Set("WWW-Authenticate", `Basic realm="fusion"`)
		s.writeText(w, http.StatusUnauthorized, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		s.log.Info("oracle sim: down", "op", op)
		s.applyFault(w, r, op, HTTP503)
		return false
	}
	f, ok := s.takeFault(op)
	if !ok {
		s.log.Debug("oracle sim: request", "op", op)
		return true
	}
	s.log.Info("oracle sim: scripted fault", "op", op, "fault", f.String())
	s.applyFault(w, r, op, f)
	return false
}

func (s *Sim) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
}

// authorized checks Basic (or Bearer) credentials in constant time.
func (s *Sim) authorized(r *http.Request) bool {
	if s.opts.Username == "" && s.opts.Password == "" {
		return true
	}
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	if s.opts.BearerToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(tok, s.opts.BearerToken) {
			return true
		}
	}
	u, p, ok := r.BasicAuth()
	return ok && eq(u, s.opts.Username) && eq(p, s.opts.Password)
}

// upload decodes and stores a document. A non-zero status is an error reply.
func (s *Sim) upload(content, fileName, account string) (Upload, int, string) {
	if fileName == "" || account == "" || content == "" {
		return Upload{}, http.StatusBadRequest, "DocumentContent, FileName and DocumentAccount are required."
	}
	data, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return Upload{}, http.StatusBadRequest, "DocumentContent is not valid base64."
	}
	up := Upload{FileName: fileName, Account: account, Content: data, Files: unzip(data)}
	if up.Files == nil {
		s.log.Warn("oracle sim: uploaded document is not a zip", "file", fileName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	up.DocumentID = strconv.FormatInt(s.nextDoc, 10)
	s.nextDoc++
	s.docs[up.DocumentID] = len(s.uploads)
	s.uploads = append(s.uploads, up)
	return up, 0, ""
}

// unzip returns the files of a zip, or nil if data is not a zip or inflates
// to more than maxUnzipped bytes.
func unzip(data []byte) map[string][]byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil
	}
	files := map[string][]byte{}
	left := int64(maxUnzipped)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(rc, left+1))
		rc.Close()
		if err != nil || int64(len(b)) > left {
			return nil
		}
		left -= int64(len(b))
		files[f.Name] = b
	}
	return files
}

// submit creates a job (and its child, if its outcome has one) and records
// the submission.
func (s *Sim) submit(pkg, definition, params string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	top := s.newJobLocked(pkg, definition, params, now, "")
	o, scripted := s.outcomeLocked(definition)
	top.outcome = o
	if definition == InterfaceLoaderDefinition {
		docID := nthParam(params, 1)
		if !s.fillLoaderOutput(top, docID) && !scripted {
			top.outcome = Outcome{State: oracle.StateError,
				Log: "ERROR: document " + docID + " was not found in UCM or is not a readable zip file."}
		}
	}
	s.addChildLocked(top)
	s.submissions = append(s.submissions, Submission{RequestID: top.id, Package: pkg,
		Definition: definition, Params: params})
	return top.id
}

const interfaceLoaderPackage = "/oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/"

func (s *Sim) newJobLocked(pkg, definition, params string, now time.Time, parentID string) *job {
	j := &job{id: strconv.FormatInt(s.nextReq, 10), pkg: pkg, definition: definition, params: params,
		submitted: now, parentID: parentID}
	s.nextReq++
	s.jobs[j.id] = j
	if p := s.jobs[parentID]; p != nil {
		p.children = append(p.children, j.id)
	}
	return j
}

// addChildLocked gives j the child job its outcome asks for.
func (s *Sim) addChildLocked(j *job) {
	if j.outcome.ChildState == "" {
		return
	}
	name := j.outcome.ChildName
	if name == "" {
		name = j.definition + "Child"
	}
	c := s.newJobLocked(j.pkg, name, j.params, j.submitted, j.id)
	c.outcome = Outcome{State: j.outcome.ChildState, Log: j.outcome.ChildLog, RunFor: j.outcome.RunFor}
}

// outcomeLocked returns the outcome for definition and whether it was scripted.
func (s *Sim) outcomeLocked(definition string) (Outcome, bool) {
	if o, ok := s.outcomes[definition]; ok {
		if o.State == "" {
			o.State = oracle.StateSucceeded
		}
		return o, true
	}
	o := Outcome{State: oracle.StateSucceeded}
	if definition == BudgetImportDefinition {
		o.ChildState = oracle.StateSucceeded
		o.ChildLog = "Validated and imported all budget lines of the budget entry."
	}
	return o, false
}

// fillLoaderOutput writes the Interface Loader's .out from the uploaded
// document and reports whether the document exists and is a zip.
func (s *Sim) fillLoaderOutput(j *job, docID string) bool {
	i, ok := s.docs[docID]
	if !ok || s.uploads[i].Files == nil {
		return false
	}
	up := s.uploads[i]
	var b strings.Builder
	fmt.Fprintf(&b, "Load Interface File for Import\nDocument %s (%s, account %s)\n", docID, up.FileName, up.Account)
	names := make([]string, 0, len(up.Files))
	for n := range up.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rows := bytes.Count(up.Files[n], []byte("\n"))
		if l := len(up.Files[n]); l > 0 && up.Files[n][l-1] != '\n' {
			rows++
		}
		fmt.Fprintf(&b, "%s: %d rows loaded\n", n, rows)
	}
	j.out = b.String()
	return true
}

// nthParam returns the i-th (0-based) comma-separated ESS parameter, without
// quotes; good enough for the numeric parameters the simulator reads.
func nthParam(params string, i int) string {
	parts := strings.Split(params, ",")
	if i >= len(parts) {
		return ""
	}
	return strings.Trim(strings.TrimSpace(parts[i]), `"`)
}

// stateLocked returns j's state at now.
func (s *Sim) stateLocked(j *job, now time.Time) oracle.State {
	runFor := j.outcome.RunFor
	if runFor <= 0 {
		runFor = s.opts.RunFor
	}
	elapsed := now.Sub(j.submitted)
	switch {
	case elapsed < s.opts.WaitFor:
		return oracle.StateWait
	case elapsed < s.opts.WaitFor+runFor:
		return oracle.StateRunning
	}
	if j.outcome.State == "" {
		return oracle.StateSucceeded
	}
	return j.outcome.State
}

// treeLocked returns j and its descendants in the shape documented in package
// oracle (parseJobTree): JOBID, JOBNAME, JOBPATH, STATUS and nested JOBS.
func (s *Sim) treeLocked(j *job, now time.Time, depth int) map[string]any {
	node := map[string]any{"JOBID": j.id, "JOBNAME": j.definition, "JOBPATH": strings.TrimSuffix(j.pkg, "/"),
		"STATUS": string(s.stateLocked(j, now))}
	if len(j.children) > 0 && depth < 16 {
		kids := make([]any, 0, len(j.children))
		for _, id := range j.children {
			kids = append(kids, s.treeLocked(s.jobs[id], now, depth+1))
		}
		node["JOBS"] = kids
	}
	return node
}

// logZipLocked builds j's log zip: {id}.log and, when the job has output,
// {id}.out. fileType LOG or OUT keeps only that file.
func (s *Sim) logZipLocked(j *job, now time.Time, fileType string) []byte {
	st := s.stateLocked(j, now)
	var lg strings.Builder
	fmt.Fprintf(&lg, "Oracle Enterprise Scheduler (simulated) request %s\n", j.id)
	fmt.Fprintf(&lg, "Job: %s%s\n", j.pkg, j.definition)
	fmt.Fprintf(&lg, "Parameters: %s\n", j.params)
	fmt.Fprintf(&lg, "Submitted: %s\n", j.submitted.UTC().Format(time.RFC3339))
	if st.Terminal() {
		if j.outcome.Log != "" {
			lg.WriteString(strings.TrimRight(j.outcome.Log, "\n"))
			lg.WriteByte('\n')
		}
		for _, id := range j.children {
			fmt.Fprintf(&lg, "Child request %s ended %s\n", id, s.stateLocked(s.jobs[id], now))
		}
	}
	fmt.Fprintf(&lg, "Request %s is %s.\n", j.id, st)

	out := j.out
	if out == "" && st.Terminal() {
		out = fmt.Sprintf("%s execution report\nRequest %s ended %s.\n", j.definition, j.id, st)
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, content string) {
		f, _ := zw.Create(name)
		_, _ = io.WriteString(f, content)
	}
	if fileType != "OUT" {
		add(j.id+".log", lg.String())
	}
	if fileType != "LOG" && out != "" {
		add(j.id+".out", out)
	}
	_ = zw.Close() // writing to a bytes.Buffer cannot fail
	return buf.Bytes()
}

// describe returns a stateDescription like the ESS REST API's.
func describe(st oracle.State) string {
	switch {
	case st.Succeeded():
		return "The request completed successfully."
	case st.Failed():
		return "The request ended in state " + string(st) + "."
	}
	return "The request is in progress."
}

// parseFinder splits "finder=Name;k1=v1,k2=v2" out of a raw query. Variable
// names are lower-cased. Both literal and percent-encoded delimiters work.
func parseFinder(rawQuery string) (name string, vars map[string]string, ok bool) {
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != "finder" {
			continue
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		n, rest, _ := strings.Cut(v, ";")
		vars = map[string]string{}
		for _, kv := range strings.Split(rest, ",") {
			vk, vv, _ := strings.Cut(kv, "=")
			if vk = strings.TrimSpace(vk); vk != "" {
				vars[strings.ToLower(vk)] = strings.TrimSpace(vv)
			}
		}
		name = strings.TrimSpace(n)
		return name, vars, name != ""
	}
	return "", nil, false
}

// writeJSON writes v as the resource's JSON.
func (s *Sim) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeText writes a plain-text error, as Oracle's REST layer does.
func (s *Sim) writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
