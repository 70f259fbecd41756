package oraclesim_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/local/oraclesim"
	"github.com/finance/fbdi-notify/internal/oracle"
	"github.com/finance/fbdi-notify/internal/testing/clocktest"
)

const (
	user     = "fin.integration"
	password = "s3cret-Pa55"
	waitFor  = 10 * time.Second
	runFor   = 30 * time.Second
)

var (
	loaderJob = oracle.Job{Package: "/oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/",
		Definition: "InterfaceLoaderController"}
	budgetJob = oracle.Job{Package: "/oracle/apps/ess/financials/commitmentControl/integration/budgetImport/",
		Definition: "BudgetImport",
		Params:     []string{"HYPERION", "MIC_HQ_MONTHLY", "MIC_HQ_MONTHLY_555", "INCREMENT", "", "ESS", "XCC", "ADJUST_BUDGET", "NA"}}
	budgetCSV = "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,1,-650,AED,Sep-25,,10001,,5010016\n" +
		"HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,2,650,AED,Sep-25,,10001,,5010017\n"
)

// harness is a simulator behind an HTTP server and a client for it.
type harness struct {
	sim    *oraclesim.Sim
	clock  *clocktest.Clock // the simulator's
	client *oracle.Client
	url    string
}

func newHarness(tb testing.TB, timeout time.Duration) *harness {
	tb.Helper()
	clk := clocktest.New(time.Date(2025, 9, 30, 8, 0, 0, 0, time.UTC))
	sim := oraclesim.New(oraclesim.Options{Username: user, Password: password, Now: clk.Now,
		WaitFor: waitFor, RunFor: runFor, MaxHang: 5 * time.Second})
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	c := oracle.New(oracle.Config{BaseURL: srv.URL, Username: user, Password: password}, &http.Client{Timeout: timeout})
	return &harness{sim: sim, clock: clk, client: c, url: srv.URL}
}

func zipCSV(tb testing.TB, name, csv string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(name)
	_, _ = io.WriteString(w, csv)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func (h *harness) upload(tb testing.TB) string {
	tb.Helper()
	id, err := h.client.UploadFileToUCM(context.Background(), oracle.Document{
		Content: zipCSV(tb, "XccBudgetInterface.csv", budgetCSV), FileName: "XccBudgetInterface_602.zip",
		Account: "fin$/budgetaryControl$/import$"})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func (h *harness) submit(tb testing.TB, j oracle.Job) string {
	tb.Helper()
	id, err := h.client.SubmitESSJob(context.Background(), j)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func (h *harness) status(tb testing.TB, id string) oracle.State {
	tb.Helper()
	st, err := h.client.JobStatus(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func TestBudgetTransferHappyPath(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	docID := h.upload(t)

	ups := h.sim.Uploads()
	if len(ups) != 1 || ups[0].DocumentID != docID || ups[0].Account != "fin$/budgetaryControl$/import$" ||
		ups[0].FileName != "XccBudgetInterface_602.zip" {
		t.Fatalf("uploads %+v", ups)
	}
	if got := string(ups[0].Files["XccBudgetInterface.csv"]); got != budgetCSV {
		t.Errorf("uploaded CSV = %q", got)
	}

	loader := loaderJob
	loader.Params = []string{"51", docID, "N", "N"}
	loadID := h.submit(t, loader)

	steps := []struct {
		advance time.Duration
		want    oracle.State
	}{
		{0, oracle.StateWait},
		{waitFor - time.Second, oracle.StateWait},
		{time.Second, oracle.StateRunning},
		{runFor - time.Second, oracle.StateRunning},
		{time.Second, oracle.StateSucceeded},
		{time.Hour, oracle.StateSucceeded},
	}
	for _, s := range steps {
		h.clock.Advance(s.advance)
		if got := h.status(t, loadID); got != s.want {
			t.Fatalf("after +%v: state %s, want %s", s.advance, got, s.want)
		}
	}
	log, err := h.client.JobLog(context.Background(), loadID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "XccBudgetInterface.csv: 2 rows loaded") || !strings.Contains(log, "--- "+loadID+".log ---") {
		t.Errorf("loader log:\n%s", log)
	}

	importID := h.submit(t, budgetJob)
	h.clock.Advance(waitFor + runFor)
	if got := h.status(t, importID); got != oracle.StateSucceeded {
		t.Fatalf("import state %s", got)
	}
	kids, err := h.client.ChildJobs(context.Background(), importID)
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 1 || kids[0].State != oracle.StateSucceeded || kids[0].ParentID != importID {
		t.Errorf("budget import children %+v, want one SUCCEEDED child", kids)
	}

	subs := h.sim.Submissions()
	if len(subs) != 2 || subs[0].Params != "51,"+docID+",N,N" || subs[1].Definition != "BudgetImport" ||
		subs[1].Params != "HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,INCREMENT,#NULL,ESS,XCC,ADJUST_BUDGET,NA" ||
		subs[1].RequestID != importID {
		t.Errorf("submissions %+v", subs)
	}
	if h.sim.Calls(oraclesim.OpUpload) != 1 || h.sim.Calls(oraclesim.OpSubmit) != 2 || h.sim.Calls(oraclesim.OpJobStatus) != 7 {
		t.Errorf("calls: upload %d submit %d status %d", h.sim.Calls(oraclesim.OpUpload),
			h.sim.Calls(oraclesim.OpSubmit), h.sim.Calls(oraclesim.OpJobStatus))
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		outcome    oraclesim.Outcome
		wantState  oracle.State
		wantChild  oracle.State // "" means no child
		parentLog  string
		childLog   string
		runForWait time.Duration
	}{
		{name: "warning child under succeeded parent",
			outcome:   oraclesim.Outcome{State: oracle.StateSucceeded, ChildState: oracle.StateWarning, ChildLog: "Line 2 rejected: account 5010017 is closed"},
			wantState: oracle.StateSucceeded, wantChild: oracle.StateWarning, childLog: "account 5010017 is closed"},
		{name: "error with log",
			outcome:   oraclesim.Outcome{State: oracle.StateError, Log: "ORA-20001: budget entry MIC_HQ_MONTHLY_555 does not balance"},
			wantState: oracle.StateError, parentLog: "does not balance"},
		{name: "warning parent", outcome: oraclesim.Outcome{State: oracle.StateWarning}, wantState: oracle.StateWarning},
		{name: "cancelled", outcome: oraclesim.Outcome{State: oracle.StateCancelled}, wantState: oracle.StateCancelled},
		{name: "slow job", outcome: oraclesim.Outcome{RunFor: 2 * time.Hour}, wantState: oracle.StateSucceeded, runForWait: 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2*time.Second)
			h.sim.SetOutcome("BudgetImport", tt.outcome)
			id := h.submit(t, budgetJob)
			if tt.runForWait > 0 {
				h.clock.Advance(waitFor + runFor)
				if got := h.status(t, id); got != oracle.StateRunning {
					t.Fatalf("slow job is %s after the default run time", got)
				}
				h.clock.Advance(tt.runForWait)
			}
			h.clock.Advance(waitFor + runFor)
			if got := h.status(t, id); got != tt.wantState {
				t.Fatalf("state %s, want %s", got, tt.wantState)
			}
			kids, err := h.client.ChildJobs(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantChild == "" {
				if len(kids) != 0 {
					t.Errorf("children %+v, want none", kids)
				}
			} else if len(kids) != 1 || kids[0].State != tt.wantChild {
				t.Fatalf("children %+v, want one %s", kids, tt.wantChild)
			}
			if tt.parentLog != "" {
				if log, err := h.client.JobLog(context.Background(), id); err != nil || !strings.Contains(log, tt.parentLog) {
					t.Errorf("parent log %q (%v), want %q", log, err, tt.parentLog)
				}
			}
			if tt.childLog != "" {
				if log, err := h.client.JobLog(context.Background(), kids[0].RequestID); err != nil || !strings.Contains(log, tt.childLog) {
					t.Errorf("child log %q (%v), want %q", log, err, tt.childLog)
				}
				if st := h.status(t, kids[0].RequestID); st != tt.wantChild {
					t.Errorf("child status %s", st)
				}
			}
		})
	}
}

func TestInterfaceLoaderWithUnknownDocumentFails(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	j := loaderJob
	j.Params = []string{"51", "424242", "N", "N"}
	id := h.submit(t, j)
	h.clock.Advance(waitFor + runFor)
	if st := h.status(t, id); st != oracle.StateError {
		t.Fatalf("state %s, want ERROR", st)
	}
	log, err := h.client.JobLog(context.Background(), id)
	if err != nil || !strings.Contains(log, "document 424242 was not found") {
		t.Errorf("log %q (%v)", log, err)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		op       string
		fault    oraclesim.Fault
		call     func(h *harness) error
		kind     oracle.Kind
		sentinel error
	}{
		{name: "401 on upload", op: oraclesim.OpUpload, fault: oraclesim.HTTP401, kind: oracle.Permanent, sentinel: oracle.ErrUnauthorized,
			call: func(h *harness) error {
				_, err := h.client.UploadFileToUCM(context.Background(), oracle.Document{Content: []byte("z"), FileName: "f.zip", Account: "a"})
				return err
			}},
		{name: "403 on submit", op: oraclesim.OpSubmit, fault: oraclesim.HTTP403, kind: oracle.Permanent, sentinel: oracle.ErrUnauthorized,
			call: func(h *harness) error { _, err := h.client.SubmitESSJob(context.Background(), budgetJob); return err }},
		{name: "rejected submit", op: oraclesim.OpSubmit, fault: oraclesim.Rejected, kind: oracle.Permanent, sentinel: oracle.ErrRejected,
			call: func(h *harness) error { _, err := h.client.SubmitESSJob(context.Background(), budgetJob); return err }},
		{name: "500 on status", op: oraclesim.OpJobStatus, fault: oraclesim.HTTP500, kind: oracle.Transient,
			call: func(h *harness) error { _, err := h.client.JobStatus(context.Background(), "14557"); return err }},
		{name: "503 on children", op: oraclesim.OpExecutionDetails, fault: oraclesim.HTTP503, kind: oracle.Transient,
			call: func(h *harness) error { _, err := h.client.ChildJobs(context.Background(), "14557"); return err }},
		{name: "429 on log", op: oraclesim.OpJobLog, fault: oraclesim.HTTP429, kind: oracle.Transient,
			call: func(h *harness) error { _, err := h.client.JobLog(context.Background(), "14557"); return err }},
		{name: "404 on status", op: oraclesim.OpJobStatus, fault: oraclesim.HTTP404, kind: oracle.Permanent, sentinel: oracle.ErrNotFound,
			call: func(h *harness) error { _, err := h.client.JobStatus(context.Background(), "14557"); return err }},
		{name: "malformed status", op: oraclesim.OpJobStatus, fault: oraclesim.Malformed, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse,
			call: func(h *harness) error { _, err := h.client.JobStatus(context.Background(), "14557"); return err }},
		{name: "any op", op: oraclesim.OpAny, fault: oraclesim.HTTP500, kind: oracle.Transient,
			call: func(h *harness) error { _, err := h.client.ChildJobs(context.Background(), "14557"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 2*time.Second)
			h.submit(t, budgetJob) // request 14557 exists
			h.sim.FailNext(tt.op, tt.fault, 2)
			for i := range 2 {
				err := tt.call(h)
				var e *oracle.Error
				if !errors.As(err, &e) || e.Kind != tt.kind {
					t.Fatalf("call %d: %v, want a %v *oracle.Error", i+1, err, tt.kind)
				}
				if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
					t.Errorf("call %d: %v does not wrap %v", i+1, err, tt.sentinel)
				}
			}
			if err := tt.call(h); err != nil {
				t.Errorf("third call still fails: %v", err)
			}
		})
	}
}

func TestRejectedSubmissionCreatesNoJob(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	h.sim.FailNext(oraclesim.OpSubmit, oraclesim.Rejected, 1)
	if _, err := h.client.SubmitESSJob(context.Background(), budgetJob); !errors.Is(err, oracle.ErrRejected) {
		t.Fatalf("err = %v", err)
	}
	if subs := h.sim.Submissions(); len(subs) != 0 {
		t.Errorf("submissions %+v", subs)
	}
	if _, ok := h.sim.JobState("14557"); ok {
		t.Error("a rejected submission created a job")
	}
}

func TestTimeoutFault(t *testing.T) {
	h := newHarness(t, 20*time.Millisecond)
	h.sim.FailNext(oraclesim.OpSubmit, oraclesim.Timeout, 1)
	h.sim.FailNext(oraclesim.OpJobStatus, oraclesim.Timeout, 1)
	_, err := h.client.SubmitESSJob(context.Background(), budgetJob)
	if !oracle.IsTransient(err) {
		t.Errorf("submit: %v, want transient", err)
	}
	_, err = h.client.JobStatus(context.Background(), "14557")
	if !oracle.IsTransient(err) {
		t.Errorf("status: %v, want transient", err)
	}
	// Both faults are used up; the server must also let go of both hung
	// requests, or the Cleanup's srv.Close would block until MaxHang.
	if _, err := h.client.SubmitESSJob(context.Background(), budgetJob); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	bad := oracle.New(oracle.Config{BaseURL: h.url, Username: user, Password: "wrong"}, nil)
	_, err := bad.SubmitESSJob(context.Background(), budgetJob)
	if !errors.Is(err, oracle.ErrUnauthorized) || oracle.IsTransient(err) {
		t.Fatalf("err = %v, want permanent ErrUnauthorized", err)
	}
	if len(h.sim.Submissions()) != 0 || h.sim.Calls(oraclesim.OpSubmit) != 1 {
		t.Errorf("submissions %d calls %d", len(h.sim.Submissions()), h.sim.Calls(oraclesim.OpSubmit))
	}

	tok := oraclesim.New(oraclesim.Options{Username: "u", Password: "p", BearerToken: "tok"})
	srv := httptest.NewServer(tok)
	defer srv.Close()
	c := oracle.New(oracle.Config{BaseURL: srv.URL, BearerToken: "tok"}, nil)
	if _, err := c.SubmitESSJob(context.Background(), budgetJob); err != nil {
		t.Errorf("bearer token: %v", err)
	}
}

func TestHTTPDetails(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	id := h.submit(t, budgetJob)
	h.clock.Advance(waitFor + runFor)

	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	const res = "/fscmRestApi/resources/11.13.18.05/erpintegrations"
	tests := []struct {
		name       string
		path       string
		wantStatus int
		check      func(t *testing.T, body map[string]any)
	}{
		{name: "status finder", path: res + "?finder=ESSJobStatusRF;requestId=" + id, wantStatus: 200,
			check: func(t *testing.T, body map[string]any) {
				items, _ := body["items"].([]any)
				if len(items) != 1 || body["count"] != float64(1) || body["hasMore"] != false {
					t.Fatalf("body %v", body)
				}
				item := items[0].(map[string]any)
				if item["ReqstId"] != id || item["RequestStatus"] != "SUCCEEDED" {
					t.Errorf("item %v", item)
				}
			}},
		{name: "percent-encoded finder", path: res + "?finder=ESSJobStatusRF%3BrequestId%3D" + id, wantStatus: 200,
			check: func(t *testing.T, body map[string]any) {
				if items, _ := body["items"].([]any); len(items) != 1 {
					t.Errorf("body %v", body)
				}
			}},
		{name: "unknown request", path: res + "?finder=ESSJobStatusRF;requestId=1", wantStatus: 200,
			check: func(t *testing.T, body map[string]any) {
				if items, ok := body["items"].([]any); !ok || len(items) != 0 || body["count"] != float64(0) {
					t.Errorf("body %v", body)
				}
			}},
		{name: "tree is a JSON string", path: res + "?finder=ESSExecutionDetailsRF;requestId=" + id, wantStatus: 200,
			check: func(t *testing.T, body map[string]any) {
				item := body["items"].([]any)[0].(map[string]any)
				s, ok := item["RequestStatus"].(string)
				var tree map[string]any
				if !ok || json.Unmarshal([]byte(s), &tree) != nil || tree["JOBS"] == nil {
					t.Errorf("RequestStatus %v", item["RequestStatus"])
				}
			}},
		{name: "older scheduler API", path: "/ess/rest/scheduler/v1/requests/" + id, wantStatus: 200,
			check: func(t *testing.T, body map[string]any) {
				if body["state"] != "SUCCEEDED" || body["stateDescription"] == "" {
					t.Errorf("body %v", body)
				}
			}},
		{name: "older scheduler API, unknown", path: "/ess/rest/scheduler/v1/requests/1", wantStatus: 404},
		{name: "no finder", path: res, wantStatus: 400},
		{name: "unknown finder", path: res + "?finder=Nope;requestId=1", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(tt.path)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func TestBadPosts(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	post := func(contentType, body string) int {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/fscmRestApi/resources/11.13.18.05/erpintegrations", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		want        int
	}{
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: "a=b", want: 415},
		{name: "not JSON", contentType: "application/json", body: "{", want: 400},
		{name: "unknown operation", contentType: "application/json", body: `{"OperationName":"deleteEverything"}`, want: 400},
		{name: "upload without content", contentType: "application/json", body: `{"OperationName":"uploadFileToUCM","FileName":"f","DocumentAccount":"a"}`, want: 400},
		{name: "upload not base64", contentType: "application/json", body: `{"OperationName":"uploadFileToUCM","FileName":"f","DocumentAccount":"a","DocumentContent":"%%%"}`, want: 400},
		{name: "submit without job", contentType: "application/json", body: `{"OperationName":"submitESSJobRequest"}`, want: 400},
		{name: "plain json accepted", contentType: "application/json; charset=utf-8", body: `{"OperationName":"submitESSJobRequest","JobPackageName":"/p/","JobDefName":"D"}`, want: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.contentType, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, 5*time.Second)
	const n = 20
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := h.client.SubmitESSJob(context.Background(), budgetJob)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- id
			h.clock.Advance(time.Second)
			if _, err := h.client.JobStatus(context.Background(), id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("request ID %s issued twice", id)
		}
		seen[id] = true
	}
	if len(h.sim.Submissions()) != n || h.sim.Calls(oraclesim.OpJobStatus) != n {
		t.Errorf("submissions %d status calls %d", len(h.sim.Submissions()), h.sim.Calls(oraclesim.OpJobStatus))
	}
}

// TestDownCountsRequests: while down, every operation gets 503 (a
// transient error) and is counted; back up, calls succeed.
func TestDownCountsRequests(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	id := h.submit(t, budgetJob)
	h.sim.SetDown(true)
	if _, err := h.client.JobStatus(context.Background(), id); !oracle.IsTransient(err) {
		t.Fatalf("status while down: %v, want a transient error", err)
	}
	if _, err := h.client.SubmitESSJob(context.Background(), budgetJob); !oracle.IsTransient(err) {
		t.Fatalf("submit while down: %v, want a transient error", err)
	}
	h.sim.SetDown(false)
	h.status(t, id)
	if got := h.sim.Requests(); got != 4 {
		t.Errorf("requests = %d, want 4 (2 while down)", got)
	}
	if got := len(h.sim.Submissions()); got != 1 {
		t.Errorf("submissions = %d, want 1: none while down", got)
	}
}

// TestMaxConcurrentJobs: the most submitted jobs that were WAIT or
// RUNNING at the same time, by the simulator's clock.
func TestMaxConcurrentJobs(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	if got := h.sim.MaxConcurrentJobs(); got != 0 {
		t.Fatalf("no jobs: %d", got)
	}
	h.submit(t, budgetJob)
	h.submit(t, budgetJob) // overlaps the first
	h.clock.Advance(waitFor + runFor)
	h.submit(t, budgetJob) // the first two ended just now
	if got := h.sim.MaxConcurrentJobs(); got != 2 {
		t.Errorf("max concurrent jobs = %d, want 2", got)
	}
}
