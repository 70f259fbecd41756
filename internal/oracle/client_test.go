package oracle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/finance/fbdi-notify/internal/oracle"
)

const (
	testUser     = "fin.integration"
	testPassword = "s3cret-Pa55"
)

// serve starts h and returns a client for it with a short per-request timeout.
func serve(tb testing.TB, h http.HandlerFunc) *oracle.Client {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return oracle.New(oracle.Config{BaseURL: srv.URL, Username: testUser, Password: testPassword},
		&http.Client{Timeout: 2 * time.Second})
}

// reply returns a handler that answers every request with status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// serveQuery is serve with reply(status, body); the returned pointer holds
// the raw query of the last request.
func serveQuery(tb testing.TB, status int, body string) (*oracle.Client, *string) {
	tb.Helper()
	query := new(string)
	c := serve(tb, func(w http.ResponseWriter, r *http.Request) {
		*query = r.URL.RawQuery
		reply(status, body)(w, r)
	})
	return c, query
}

func testdata(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// checkErr asserts err is an *oracle.Error of kind, wrapping sentinel (if any),
// and that its text leaks neither the password nor the URL.
func checkErr(tb testing.TB, err error, op string, kind oracle.Kind, sentinel error) {
	tb.Helper()
	var e *oracle.Error
	if !errors.As(err, &e) {
		tb.Fatalf("err = %v (%T), want *oracle.Error", err, err)
	}
	if e.Op != op || e.Kind != kind {
		tb.Errorf("Op %q Kind %v, want %q %v (%v)", e.Op, e.Kind, op, kind, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		tb.Errorf("%v does not wrap %v", err, sentinel)
	}
	if oracle.IsTransient(err) != (kind == oracle.Transient) {
		tb.Errorf("IsTransient(%v) = %v", err, oracle.IsTransient(err))
	}
	msg := err.Error()
	for _, leak := range []string{testPassword, "http://", "finder=", "Basic "} {
		if strings.Contains(msg, leak) {
			tb.Errorf("error text %q contains %q", msg, leak)
		}
	}
	if !strings.HasPrefix(msg, "oracle: "+op) {
		tb.Errorf("error text %q does not start with the operation", msg)
	}
}

func TestUploadFileToUCMRequest(t *testing.T) {
	var got struct {
		method, path, contentType, accept string
		user, pass                        string
		ok                                bool
		body                              map[string]any
	}
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.contentType, got.accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
		got.user, got.pass, got.ok = r.BasicAuth()
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, testdata(t, "upload_response.json"))
	})
	content := []byte("PK\x03\x04 pretend zip")
	id, err := c.UploadFileToUCM(context.Background(), oracle.Document{Content: content,
		FileName: "XccBudgetInterface_602.zip", Account: "fin$/budgetaryControl$/import$"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "2440817" {
		t.Errorf("DocumentId = %q, want 2440817", id)
	}
	if got.method != http.MethodPost || got.path != "/fscmRestApi/resources/11.13.18.05/erpintegrations" {
		t.Errorf("request %s %s", got.method, got.path)
	}
	if got.contentType != "application/vnd.oracle.adf.resourceitem+json" || got.accept != "application/json" {
		t.Errorf("Content-Type %q Accept %q", got.contentType, got.accept)
	}
	if !got.ok || got.user != testUser || got.pass != testPassword {
		t.Errorf("basic auth %q/%q (%v)", got.user, got.pass, got.ok)
	}
	want := map[string]any{"OperationName": "uploadFileToUCM", "DocumentContent": base64.StdEncoding.EncodeToString(content),
		"DocumentAccount": "fin$/budgetaryControl$/import$", "ContentType": "zip", "FileName": "XccBudgetInterface_602.zip",
		"DocumentId": nil}
	for k, v := range want {
		if gv, ok := got.body[k]; !ok || gv != v {
			t.Errorf("body[%s] = %v (present %v), want %v", k, gv, ok, v)
		}
	}
}

func TestUploadFileToUCMResponses(t *testing.T) {
	doc := oracle.Document{Content: []byte("zip"), FileName: "f.zip", Account: "fin$/generalLedger$/import$"}
	tests := []struct {
		name     string
		status   int
		body     string
		wantID   string
		kind     oracle.Kind
		sentinel error
	}{
		{name: "string id, 201", status: 201, body: `{"DocumentId":"123"}`, wantID: "123"},
		{name: "number id, 200", status: 200, body: `{"DocumentId":456}`, wantID: "456"},
		{name: "missing id", status: 201, body: `{"OperationName":"uploadFileToUCM"}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "null id", status: 201, body: `{"DocumentId":null}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "boolean id", status: 201, body: `{"DocumentId":true}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "html body", status: 200, body: `<html>maintenance</html>`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "401", status: 401, body: `Authentication failed`, kind: oracle.Permanent, sentinel: oracle.ErrUnauthorized},
		{name: "403", status: 403, body: ``, kind: oracle.Permanent, sentinel: oracle.ErrUnauthorized},
		{name: "400", status: 400, body: `bad account`, kind: oracle.Permanent},
		{name: "500", status: 500, body: `boom`, kind: oracle.Transient},
		{name: "429", status: 429, body: ``, kind: oracle.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serve(t, reply(tt.status, tt.body))
			id, err := c.UploadFileToUCM(context.Background(), doc)
			if tt.kind == 0 {
				if err != nil || id != tt.wantID {
					t.Fatalf("got %q, %v; want %q", id, err, tt.wantID)
				}
				return
			}
			checkErr(t, err, oracle.OpUploadFileToUCM, tt.kind, tt.sentinel)
		})
	}
}

func TestUploadFileToUCMInvalidDocument(t *testing.T) {
	var calls atomic.Int32
	c := serve(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	_, err := c.UploadFileToUCM(context.Background(), oracle.Document{FileName: "f.zip"})
	checkErr(t, err, oracle.OpUploadFileToUCM, oracle.Permanent, nil)
	if calls.Load() != 0 {
		t.Error("an invalid document reached the server")
	}
}

func TestSubmitESSJob(t *testing.T) {
	job := oracle.Job{Package: "/oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/",
		Definition: "InterfaceLoaderController", Params: []string{"51", "2440817", "N", "N"}}
	tests := []struct {
		name     string
		body     string
		wantID   string
		kind     oracle.Kind
		sentinel error
	}{
		{name: "testdata", body: testdata(t, "submit_response.json"), wantID: "14557"},
		{name: "number id", body: `{"ReqstId":14557}`, wantID: "14557"},
		{name: "rejected string", body: `{"ReqstId":"-1"}`, kind: oracle.Permanent, sentinel: oracle.ErrRejected},
		{name: "rejected number", body: `{"ReqstId":-1}`, kind: oracle.Permanent, sentinel: oracle.ErrRejected},
		{name: "rejected zero", body: `{"ReqstId":"0"}`, kind: oracle.Permanent, sentinel: oracle.ErrRejected},
		{name: "missing id", body: `{}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "non-numeric id", body: `{"ReqstId":"abc"}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "array body", body: `[]`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			c := serve(t, func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewDecoder(r.Body).Decode(&body)
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, tt.body)
			})
			id, err := c.SubmitESSJob(context.Background(), job)
			if body["OperationName"] != "submitESSJobRequest" || body["JobPackageName"] != job.Package ||
				body["JobDefName"] != job.Definition || body["ESSParameters"] != "51,2440817,N,N" {
				t.Errorf("request body %v", body)
			}
			if tt.kind == 0 {
				if err != nil || id != tt.wantID {
					t.Fatalf("got %q, %v; want %q", id, err, tt.wantID)
				}
				return
			}
			checkErr(t, err, oracle.OpSubmitESSJobRequest, tt.kind, tt.sentinel)
			if id != "" {
				t.Errorf("id %q returned with an error", id)
			}
		})
	}
}

func TestJobStatus(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     oracle.State
		kind     oracle.Kind
		sentinel error
	}{
		{name: "testdata", status: 200, body: testdata(t, "job_status_response.json"), want: oracle.StateSucceeded},
		{name: "lower case", status: 200, body: `{"items":[{"RequestStatus":"running"}],"count":1}`, want: oracle.StateRunning},
		{name: "unknown state kept", status: 200, body: `{"items":[{"RequestStatus":"SCHEDULE_ENDED"}]}`, want: oracle.State("SCHEDULE_ENDED")},
		{name: "no items", status: 200, body: `{"items":[],"count":0,"hasMore":false}`, kind: oracle.Permanent, sentinel: oracle.ErrNotFound},
		{name: "items missing", status: 200, body: `{"count":0}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "status missing", status: 200, body: `{"items":[{"ReqstId":"1"}]}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "status object", status: 200, body: `{"items":[{"RequestStatus":{"a":1}}]}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "not JSON", status: 200, body: `Service Unavailable`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "404", status: 404, body: ``, kind: oracle.Permanent, sentinel: oracle.ErrNotFound},
		{name: "503", status: 503, body: `<html>down</html>`, kind: oracle.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, query := serveQuery(t, tt.status, tt.body)
			st, err := c.JobStatus(context.Background(), "14557")
			if *query != "finder=ESSJobStatusRF;requestId=14557" {
				t.Errorf("query %q", *query)
			}
			if tt.kind == 0 {
				if err != nil || st != tt.want {
					t.Fatalf("got %q, %v; want %q", st, err, tt.want)
				}
				return
			}
			checkErr(t, err, oracle.FinderJobStatus, tt.kind, tt.sentinel)
		})
	}
}

func TestRequestIDValidated(t *testing.T) {
	var calls atomic.Int32
	c := serve(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	for _, id := range []string{"", "12a", "1,fileType=ALL", "1;x", "-1", strings.Repeat("9", 20)} {
		_, err := c.JobStatus(context.Background(), id)
		checkErr(t, err, oracle.FinderJobStatus, oracle.Permanent, nil)
	}
	if calls.Load() != 0 {
		t.Errorf("%d invalid request IDs reached the server", calls.Load())
	}
}

func TestChildJobs(t *testing.T) {
	tree := `{"JOBS":{"JOBID":"14557","JOBNAME":"BudgetImport","STATUS":"SUCCEEDED","JOBS":[{"JOBID":"14558","JOBNAME":"BudgetImportChild","STATUS":"WARNING"}]}}`
	treeString, _ := json.Marshal(tree)
	tests := []struct {
		name     string
		body     string
		want     []oracle.JobInfo
		kind     oracle.Kind
		sentinel error
	}{
		{name: "tree as string", body: `{"items":[{"RequestStatus":` + string(treeString) + `}]}`,
			want: []oracle.JobInfo{{RequestID: "14558", Name: "BudgetImportChild", State: oracle.StateWarning, ParentID: "14557"}}},
		{name: "tree as object", body: `{"items":[{"RequestStatus":` + tree + `}]}`,
			want: []oracle.JobInfo{{RequestID: "14558", Name: "BudgetImportChild", State: oracle.StateWarning, ParentID: "14557"}}},
		{name: "testdata", body: testdata(t, "execution_details_response.json"), want: []oracle.JobInfo{
			{RequestID: "14558", Name: "Transfer File", State: oracle.StateSucceeded, ParentID: "14557"},
			{RequestID: "14559", Name: "BudgetImport", State: oracle.StateSucceeded, ParentID: "14557"},
			{RequestID: "14560", Name: "BudgetImportChild", State: oracle.StateWarning, ParentID: "14559"},
		}},
		{name: "no children", body: `{"items":[{"RequestStatus":"{\"JOBS\":{\"JOBID\":\"14557\",\"STATUS\":\"RUNNING\"}}"}]}`, want: []oracle.JobInfo{}},
		{name: "empty status", body: `{"items":[{"RequestStatus":""}]}`, want: []oracle.JobInfo{}},
		{name: "null status", body: `{"items":[{"RequestStatus":null}]}`, want: []oracle.JobInfo{}},
		{name: "plain string", body: `{"items":[{"RequestStatus":"SUCCEEDED"}]}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "no items", body: `{"items":[]}`, kind: oracle.Permanent, sentinel: oracle.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, query := serveQuery(t, 200, tt.body)
			jobs, err := c.ChildJobs(context.Background(), "14557")
			if *query != "finder=ESSExecutionDetailsRF;requestId=14557" {
				t.Errorf("query %q", *query)
			}
			if tt.kind != 0 {
				checkErr(t, err, oracle.FinderExecutionDetails, tt.kind, tt.sentinel)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if jobs == nil || len(jobs) != len(tt.want) {
				t.Fatalf("jobs = %#v, want %+v", jobs, tt.want)
			}
			for i := range jobs {
				if jobs[i] != tt.want[i] {
					t.Errorf("jobs[%d] = %+v, want %+v", i, jobs[i], tt.want[i])
				}
			}
		})
	}
}

func TestJobLog(t *testing.T) {
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	f, _ := zw.Create("14557.log")
	_, _ = io.WriteString(f, "Budget entry MIC_555 line 3: account 5010016 is not valid\n")
	_ = zw.Close()
	good := base64.StdEncoding.EncodeToString(zipBuf.Bytes())
	wrapped := good[:10] + "\r\n" + good[10:]

	tests := []struct {
		name     string
		body     string
		contains string
		kind     oracle.Kind
		sentinel error
	}{
		{name: "zip", body: `{"items":[{"DocumentContent":"` + good + `"}]}`, contains: "account 5010016 is not valid"},
		{name: "line-wrapped base64", body: `{"items":[{"DocumentContent":"` + strings.ReplaceAll(wrapped, "\r\n", `\r\n`) + `"}]}`, contains: "account 5010016"},
		{name: "unpadded base64", body: `{"items":[{"DocumentContent":"` + strings.TrimRight(good, "=") + `"}]}`, contains: "account 5010016"},
		{name: "no content yet", body: `{"items":[{"DocumentContent":null}]}`, contains: ""},
		{name: "not base64", body: `{"items":[{"DocumentContent":"%%% not base64 %%%"}]}`, kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "base64 but not zip", body: `{"items":[{"DocumentContent":"` + base64.StdEncoding.EncodeToString([]byte("hello")) + `"}]}`,
			kind: oracle.Permanent, sentinel: oracle.ErrUnexpectedResponse},
		{name: "no items", body: `{"items":[]}`, kind: oracle.Permanent, sentinel: oracle.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, query := serveQuery(t, 200, tt.body)
			text, err := c.JobLog(context.Background(), "14557")
			if *query != "finder=ESSJobExecutionDetailsRF;requestId=14557,fileType=ALL" {
				t.Errorf("query %q", *query)
			}
			if tt.kind != 0 {
				checkErr(t, err, oracle.FinderJobExecutionDetail, tt.kind, tt.sentinel)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tt.contains) || (tt.contains == "" && text != "") {
				t.Errorf("log %q, want it to contain %q", text, tt.contains)
			}
		})
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()
	c := oracle.New(oracle.Config{BaseURL: srv.URL, Username: testUser, Password: testPassword},
		&http.Client{Timeout: 20 * time.Millisecond})
	_, err := c.JobStatus(context.Background(), "14557")
	checkErr(t, err, oracle.FinderJobStatus, oracle.Transient, nil)
	if !strings.Contains(err.Error(), "timed out") {
		t.Errorf("error %q does not say it timed out", err)
	}
}

func TestCallerCancellationIsNotTransient(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := oracle.New(oracle.Config{BaseURL: srv.URL}, &http.Client{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := c.JobStatus(ctx, "14557")
	checkErr(t, err, oracle.FinderJobStatus, oracle.Canceled, context.Canceled)
}

func TestConnectionErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c := oracle.New(oracle.Config{BaseURL: strings.Replace(base, "http://", "http://user:"+testPassword+"@", 1),
		Password: testPassword}, &http.Client{Timeout: time.Second})
	_, err := c.SubmitESSJob(context.Background(), oracle.Job{Package: "/p/", Definition: "D"})
	checkErr(t, err, oracle.OpSubmitESSJobRequest, oracle.Transient, nil)
}

func TestBaseURL(t *testing.T) {
	var path, user string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		user, _, _ = r.BasicAuth()
		reply(200, `{"items":[{"RequestStatus":"WAIT"}]}`)(w, r)
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		base     string
		wantPath string
		wantErr  bool
	}{
		{name: "trailing slash", base: srv.URL + "/", wantPath: "/fscmRestApi/resources/11.13.18.05/erpintegrations"},
		{name: "path prefix kept", base: srv.URL + "/oracle", wantPath: "/oracle/fscmRestApi/resources/11.13.18.05/erpintegrations"},
		{name: "user info dropped", base: strings.Replace(srv.URL, "http://", "http://evil:pw@", 1), wantPath: "/fscmRestApi/resources/11.13.18.05/erpintegrations"},
		{name: "not absolute", base: "example.com", wantErr: true},
		{name: "bad scheme", base: "ftp://example.com", wantErr: true},
		{name: "unparseable", base: "http://[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, user = "", ""
			c := oracle.New(oracle.Config{BaseURL: tt.base, Username: testUser}, nil)
			_, err := c.JobStatus(context.Background(), "1")
			if tt.wantErr {
				checkErr(t, err, oracle.FinderJobStatus, oracle.Permanent, nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || user != testUser {
				t.Errorf("path %q user %q, want %q %q", path, user, tt.wantPath, testUser)
			}
		})
	}
}

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		cfg     oracle.Config
		wantErr string // "" when usable
	}{
		{name: "https", cfg: oracle.Config{BaseURL: "https://abcd.fa.ocs.oraclecloud.com"}},
		{name: "plain http", cfg: oracle.Config{BaseURL: "http://abcd.fa.ocs.oraclecloud.com"}, wantErr: "BaseURL must be https"},
		{name: "plain http in capitals", cfg: oracle.Config{BaseURL: "HTTP://abcd.fa.ocs.oraclecloud.com"}, wantErr: "BaseURL must be https"},
		{name: "plain http to a private address", cfg: oracle.Config{BaseURL: "http://10.0.0.7/oracle"}, wantErr: "BaseURL must be https"},
		{name: "plain http, allowed for the local stack", cfg: oracle.Config{BaseURL: "http://host.docker.internal:3001/oracle", AllowHTTP: true}},
		{name: "plain http to 127.0.0.1", cfg: oracle.Config{BaseURL: "http://127.0.0.1:3001/oracle"}},
		{name: "plain http to localhost", cfg: oracle.Config{BaseURL: "http://localhost:3001/oracle"}},
		{name: "plain http to ::1", cfg: oracle.Config{BaseURL: "http://[::1]:3001/oracle"}},
		{name: "localhost as a subdomain is not loopback", cfg: oracle.Config{BaseURL: "http://localhost.example.com"}, wantErr: "BaseURL must be https"},
		{name: "not absolute", cfg: oracle.Config{BaseURL: "abcd.fa.ocs.oraclecloud.com"}, wantErr: "absolute"},
		{name: "empty", cfg: oracle.Config{}, wantErr: "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.CheckBaseURL()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("CheckBaseURL(%q) = %v, want %q", tt.cfg.BaseURL, err, tt.wantErr)
			}
		})
	}
}

// TestPlainHTTPSendsNothing: a client for a plain http Oracle fails every
// call before sending the password.
func TestPlainHTTPSendsNothing(t *testing.T) {
	sent := 0
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("must not be sent")
	})}
	c := oracle.New(oracle.Config{BaseURL: "http://abcd.fa.ocs.oraclecloud.com", Username: testUser, Password: testPassword}, hc)
	_, err := c.JobStatus(context.Background(), "1")
	checkErr(t, err, oracle.FinderJobStatus, oracle.Permanent, nil)
	if sent != 0 {
		t.Errorf("%d requests sent over plain http", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBearerToken(t *testing.T) {
	var auth, agent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, agent = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		reply(200, `{"items":[{"RequestStatus":"WAIT"}]}`)(w, r)
	}))
	defer srv.Close()
	c := oracle.New(oracle.Config{BaseURL: srv.URL, Username: "u", Password: "p", BearerToken: "tok", UserAgent: "worker/1"}, nil)
	if _, err := c.JobStatus(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer tok" || agent != "worker/1" {
		t.Errorf("Authorization %q User-Agent %q", auth, agent)
	}
}

func TestErrorBodySnippetIsBounded(t *testing.T) {
	c := serve(t, reply(500, strings.Repeat("stack trace line\n", 10000)))
	_, err := c.JobStatus(context.Background(), "1")
	checkErr(t, err, oracle.FinderJobStatus, oracle.Transient, nil)
	if n := len(err.Error()); n > 300 {
		t.Errorf("error text is %d bytes", n)
	}
	var e *oracle.Error
	if errors.As(err, &e); e.StatusCode != 500 {
		t.Errorf("StatusCode %d", e.StatusCode)
	}
}

func TestConfigHost(t *testing.T) {
	tests := []struct {
		name, baseURL, want string
	}{
		{name: "https", baseURL: "https://ABCD.fa.ocs.oraclecloud.com/", want: "abcd.fa.ocs.oraclecloud.com"},
		{name: "with port and path", baseURL: " http://127.0.0.1:3001/oracle", want: "127.0.0.1:3001"},
		{name: "not a URL", baseURL: "::", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (oracle.Config{BaseURL: tt.baseURL}).Host(); got != tt.want {
				t.Errorf("Host() = %q, want %q", got, tt.want)
			}
		})
	}
}
