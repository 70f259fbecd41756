// Package oracle is a client for the Oracle Fusion ERP Integrations REST
// resource (/fscmRestApi/resources/11.13.18.05/erpintegrations): upload an
// FBDI zip to UCM, submit ESS jobs, and read their status, child jobs and logs.
//
// Every method makes exactly one HTTP request and never waits or retries:
// the caller (the workflow worker) polls by checkpointing and coming back
// later. Every error is an *Error whose Kind says whether a retry can help
// (IsTransient); sentinels (ErrUnauthorized, ErrRejected, ErrNotFound,
// ErrUnexpectedResponse) say why. Error texts never contain credentials, URLs
// or more than a short sanitized snippet of a response body.
//
// Finder queries are sent the way Oracle documents them and every public
// client writes them, with the finder's ';', '=' and ',' delimiters literal:
//
//	?finder=ESSJobStatusRF;requestId=14557
//	?finder=ESSJobExecutionDetailsRF;requestId=14557,fileType=ALL
//
// (they are RFC 3986 sub-delimiters, legal in a query unescaped; percent-
// encoding them would hide the finder syntax from the ADF REST layer). The
// values are request IDs, which the client checks are all digits, so nothing
// in them needs escaping.
//
// A Client is safe for concurrent use.
package oracle

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/finance/fbdi-notify/internal/jsonvalue"
)

// resourcePath is the ERP Integrations resource under the base URL.
const resourcePath = "/fscmRestApi/resources/11.13.18.05/erpintegrations"

// Operation and finder names; they are also the Op of an *Error.
const (
	OpUploadFileToUCM        = "uploadFileToUCM"
	OpSubmitESSJobRequest    = "submitESSJobRequest"
	FinderJobStatus          = "ESSJobStatusRF"
	FinderExecutionDetails   = "ESSExecutionDetailsRF"
	FinderJobExecutionDetail = "ESSJobExecutionDetailsRF"
)

// Content types.
const (
	contentTypeItem = "application/vnd.oracle.adf.resourceitem+json"
	defaultAgent    = "fbdi-notify"
)

// maxResponse bounds a response body (a log zip, base64, is the largest).
const maxResponse = 64 << 20

// DefaultTimeout is the per-request timeout of the *http.Client New builds
// when given none.
const DefaultTimeout = 60 * time.Second

// Config says where Oracle is and who the client is.
type Config struct {
	BaseURL     string // e.g. https://abcd.fa.ocs.oraclecloud.com; a path prefix is kept, user info is ignored
	Username    string // Basic auth user
	Password    string // Basic auth password
	BearerToken string // optional OAuth access token; when set it is sent instead of Basic auth
	UserAgent   string // User-Agent header; default "fbdi-notify"

	// AllowHTTP accepts a plain http BaseURL on any host: for the local
	// stack only, whose Oracle simulator may be reached under another name
	// (a container's host). Without it, http is accepted only for a
	// loopback host, since Basic auth sends the password with every request.
	AllowHTTP bool
}

// CheckBaseURL returns why c.BaseURL cannot be used, or nil: it must be an
// absolute URL, https unless c.AllowHTTP or its host is a loopback address
// (localhost, 127.0.0.0/8, ::1). The error never quotes the URL, which may
// carry user info.
func (c Config) CheckBaseURL() error {
	u, err := url.Parse(strings.TrimSpace(c.BaseURL))
	switch {
	case err != nil:
		return errors.New("invalid BaseURL") // url errors quote the URL
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return errors.New("BaseURL must be an absolute http(s) URL")
	case u.Scheme == "http" && !c.AllowHTTP && !loopback(u.Hostname()):
		return errors.New("BaseURL must be https: plain http would send the Oracle credentials in clear")
	}
	return nil
}

// Host returns the host (and port, if any) of BaseURL in lower case: the
// name of the Oracle instance, e.g. for a breaker shared by its callers;
// "" if BaseURL does not parse.
func (c Config) Host() string {
	u, err := url.Parse(strings.TrimSpace(c.BaseURL))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client calls the ERP Integrations REST resource.
type Client struct {
	endpoint string // base URL + resourcePath, without user info
	baseErr  error  // why BaseURL is unusable, reported by every call
	username string
	password string
	bearer   string
	agent    string
	hc       *http.Client
}

// New returns a Client for cfg that sends its requests through hc, which
// carries the per-request timeout; a nil hc means a client with
// DefaultTimeout. An unusable cfg.BaseURL (see Config.CheckBaseURL: plain
// http included) is reported, as a Permanent error, by every call, which
// then sends nothing. User info in BaseURL is dropped, never sent or printed.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &Client{username: cfg.Username, password: cfg.Password, bearer: cfg.BearerToken,
		agent: cfg.UserAgent, hc: hc}
	if c.agent == "" {
		c.agent = defaultAgent
	}
	if c.baseErr = cfg.CheckBaseURL(); c.baseErr == nil {
		u, _ := url.Parse(strings.TrimSpace(cfg.BaseURL))
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		c.endpoint = strings.TrimRight(u.String(), "/") + resourcePath
	}
	return c
}

// Document is a file to upload to UCM.
type Document struct {
	Content  []byte // the zip file
	FileName string // e.g. XccBudgetInterface_602.zip
	Account  string // UCM account, e.g. fin$/budgetaryControl$/import$
}

// UploadFileToUCM uploads d and returns its UCM DocumentId.
func (c *Client) UploadFileToUCM(ctx context.Context, d Document) (documentID string, err error) {
	const op = OpUploadFileToUCM
	if d.FileName == "" || d.Account == "" || len(d.Content) == 0 {
		return "", permanent(op, "document needs content, a file name and an account", nil)
	}
	body := uploadRequest{
		OperationName:   op,
		DocumentContent: base64.StdEncoding.EncodeToString(d.Content),
		DocumentAccount: d.Account,
		ContentType:     "zip",
		FileName:        d.FileName,
	}
	var resp struct {
		DocumentID jsonvalue.Text `json:"DocumentId"`
	}
	if err := c.post(ctx, op, body, &resp); err != nil {
		return "", err
	}
	if resp.DocumentID == "" {
		return "", permanent(op, "response has no DocumentId", ErrUnexpectedResponse)
	}
	return string(resp.DocumentID), nil
}

type uploadRequest struct {
	OperationName   string  `json:"OperationName"`
	DocumentContent string  `json:"DocumentContent"`
	DocumentAccount string  `json:"DocumentAccount"`
	ContentType     string  `json:"ContentType"`
	FileName        string  `json:"FileName"`
	DocumentID      *string `json:"DocumentId"` // always null: UCM assigns it
}

// SubmitESSJob submits j and returns its ESS request ID. A ReqstId of -1 (as
// a string or a number) is a Permanent error wrapping ErrRejected.
func (c *Client) SubmitESSJob(ctx context.Context, j Job) (requestID string, err error) {
	const op = OpSubmitESSJobRequest
	if j.Package == "" || j.Definition == "" {
		return "", permanent(op, "job needs a package and a definition", nil)
	}
	body := struct {
		OperationName  string `json:"OperationName"`
		JobPackageName string `json:"JobPackageName"`
		JobDefName     string `json:"JobDefName"`
		ESSParameters  string `json:"ESSParameters"`
	}{op, j.Package, j.Definition, j.ESSParameters()}
	return c.submit(ctx, op, j.Definition, body)
}

// submit posts a job submission and interprets its ReqstId.
func (c *Client) submit(ctx context.Context, op, definition string, body any) (string, error) {
	var resp struct {
		ReqstID jsonvalue.Text `json:"ReqstId"`
	}
	if err := c.post(ctx, op, body, &resp); err != nil {
		return "", err
	}
	id := string(resp.ReqstID)
	if id == "" {
		return "", permanent(op, "job "+definition+": response has no ReqstId", ErrUnexpectedResponse)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n <= 0 {
		return "", permanent(op, "job "+definition+": ReqstId "+id, ErrRejected)
	}
	if !isRequestID(id) {
		return "", permanent(op, fmt.Sprintf("job %s: ReqstId %q is not a number", definition, snippet([]byte(id))),
			ErrUnexpectedResponse)
	}
	return id, nil
}

// finderItem is the part of a finder result item the client reads.
type finderItem struct {
	RequestStatus   json.RawMessage `json:"RequestStatus"`
	DocumentContent *string         `json:"DocumentContent"`
}

// JobStatus returns the state of the ESS request (finder ESSJobStatusRF).
// It returns ErrNotFound if Oracle knows no such request. The state is
// upper-cased; one this package does not know is returned as it is.
func (c *Client) JobStatus(ctx context.Context, requestID string) (State, error) {
	const op = FinderJobStatus
	item, err := c.find(ctx, op, requestID, "")
	if err != nil {
		return "", err
	}
	var s jsonvalue.Text
	if len(item.RequestStatus) > 0 {
		if err := json.Unmarshal(item.RequestStatus, &s); err != nil {
			return "", permanent(op, "request "+requestID+": RequestStatus is not a string", ErrUnexpectedResponse)
		}
	}
	if s == "" {
		return "", permanent(op, "request "+requestID+": response has no RequestStatus", ErrUnexpectedResponse)
	}
	return ParseState(string(s)), nil
}

// ChildJobs returns the jobs below the ESS request in its job tree (finder
// ESSExecutionDetailsRF), in tree order, each with its parent's request ID;
// the request itself is not included. None is an empty slice and no error.
// See parseJobTree for the shapes of tree it understands. It returns
// ErrNotFound if Oracle knows no such request, ErrUnexpectedResponse if the
// tree cannot be parsed.
func (c *Client) ChildJobs(ctx context.Context, requestID string) ([]JobInfo, error) {
	const op = FinderExecutionDetails
	item, err := c.find(ctx, op, requestID, "")
	if err != nil {
		return nil, err
	}
	raw := bytes.TrimSpace(item.RequestStatus)
	if len(raw) == 0 || string(raw) == "null" {
		return []JobInfo{}, nil
	}
	jobs, err := parseJobTree(raw)
	if err != nil {
		return nil, permanent(op, fmt.Sprintf("request %s: job tree %q", requestID, snippet(raw)),
			fmt.Errorf("%w: %v", ErrUnexpectedResponse, err))
	}
	children := make([]JobInfo, 0, len(jobs))
	for _, j := range jobs {
		if j.RequestID != requestID {
			children = append(children, j)
		}
	}
	return children, nil
}

// JobLog returns a bounded text excerpt of the ESS request's log and output
// files (finder ESSJobExecutionDetailsRF, fileType=ALL): the last part of each
// .log file, then of each .out file, about 4 KB in all, each under a
// "--- name ---" header. An empty DocumentContent gives "" and no error. It
// returns ErrNotFound if Oracle knows no such request and ErrUnexpectedResponse
// if the content is not a base64 zip. At most 8 MiB are inflated, whatever the
// zip claims.
func (c *Client) JobLog(ctx context.Context, requestID string) (string, error) {
	const op = FinderJobExecutionDetail
	item, err := c.find(ctx, op, requestID, ",fileType=ALL")
	if err != nil {
		return "", err
	}
	if item.DocumentContent == nil || strings.TrimSpace(*item.DocumentContent) == "" {
		return "", nil
	}
	data, err := decodeBase64(*item.DocumentContent)
	if err != nil {
		return "", permanent(op, "request "+requestID+": DocumentContent is not base64", ErrUnexpectedResponse)
	}
	text, err := logExcerpt(data)
	if err != nil {
		return "", permanent(op, "request "+requestID+": "+err.Error(), ErrUnexpectedResponse)
	}
	return text, nil
}

// decodeBase64 decodes standard base64, ignoring line breaks and spaces and
// accepting missing padding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// find runs a finder for one request ID and returns its first item, or
// ErrNotFound when there is none. extra is appended to the finder's
// variables (e.g. ",fileType=ALL").
func (c *Client) find(ctx context.Context, finder, requestID, extra string) (finderItem, error) {
	if !isRequestID(requestID) {
		return finderItem{}, permanent(finder, fmt.Sprintf("request ID %q is not a number", snippet([]byte(requestID))), nil)
	}
	query := "finder=" + finder + ";requestId=" + requestID + extra
	var resp struct {
		Items *[]finderItem `json:"items"`
	}
	subject := "request " + requestID + ": "
	if err := c.do(ctx, finder, subject, http.MethodGet, query, nil, &resp); err != nil {
		return finderItem{}, err
	}
	if resp.Items == nil {
		return finderItem{}, permanent(finder, subject+"response has no items", ErrUnexpectedResponse)
	}
	if len(*resp.Items) == 0 {
		return finderItem{}, permanent(finder, subject+"no such request", ErrNotFound)
	}
	return (*resp.Items)[0], nil
}

// post sends a POST of body to the resource.
func (c *Client) post(ctx context.Context, op string, body, out any) error {
	return c.do(ctx, op, "", http.MethodPost, "", body, out)
}

// do sends one request to the resource and decodes a 200 or 201 JSON answer
// into out. subject prefixes error messages (e.g. "request 14557: ").
func (c *Client) do(ctx context.Context, op, subject, method, rawQuery string, body, out any) error {
	if c.baseErr != nil {
		return permanent(op, c.baseErr.Error(), nil)
	}
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return permanent(op, "encode request", err)
		}
		reader = bytes.NewReader(b)
	}
	u := c.endpoint
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reader)
	if err != nil {
		return permanent(op, subject+"build request", nil) // its text would quote the URL
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if body != nil {
		req.Header.Set("Content-Type", contentTypeItem)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	} else {
		req.SetBasicAuth(c.username, c.password)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, op, subject, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return transportError(ctx, op, subject, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return statusError(op, subject, resp.StatusCode, data)
	}
	if len(data) > maxResponse {
		return &Error{Op: op, StatusCode: resp.StatusCode, Kind: Permanent,
			Msg: subject + "response larger than 64 MiB", Err: ErrUnexpectedResponse}
	}
	if err := json.Unmarshal(data, out); err != nil {
		msg := subject + "response is not the expected JSON"
		if s := snippet(data); s != "" {
			msg += fmt.Sprintf(" (body %q)", s)
		}
		return &Error{Op: op, StatusCode: resp.StatusCode, Kind: Permanent, Msg: msg, Err: ErrUnexpectedResponse}
	}
	return nil
}

// isRequestID reports whether s is a plausible ESS request ID: 1 to 19 digits.
func isRequestID(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
