package oracle

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// JobInfo is one job of an ESS job tree, as ChildJobs reports it.
type JobInfo struct {
	RequestID string // ESS request ID
	Name      string // job name or definition, as Oracle reports it; may be empty
	State     State  // StateUnknown when the tree gives none
	ParentID  string // request ID of the parent job; empty for a top-level job
}

// The ESSExecutionDetailsRF finder returns the job tree as a JSON document
// inside the RequestStatus string. Its shape is not documented, so parseJobTree
// accepts any nesting of objects and arrays and recognises a job by its keys,
// compared case-insensitively and ignoring '_':
//
//   - a job is an object with an ID key: JOBID, REQUESTID, REQSTID, ESSREQUESTID;
//   - its name is the first of JOBNAME, NAME, JOBDEFNAME, JOBDEFINITIONNAME, DEFINITION;
//   - its state is the first of STATUS, REQUESTSTATUS, STATE, JOBSTATUS;
//   - its parent is PARENTREQUESTID / PARENTID / PARENTJOBID when present,
//     else the nearest enclosing job;
//   - children may sit under any key (JOBS, CHILD, CHILDREN, ...), as one
//     object or an array.
//
// The simulator (package oraclesim) emits
//
//	{"JOBS":{"JOBID":"14557","JOBNAME":"BudgetImport","JOBPATH":"/oracle/...","STATUS":"SUCCEEDED",
//	         "JOBS":[{"JOBID":"14558","JOBNAME":"BudgetImportChild","JOBPATH":"/oracle/...","STATUS":"WARNING"}]}}
//
// and a flat list such as [{"requestId":1,"state":"SUCCEEDED"},{"requestId":2,"parentRequestId":1,...}]
// parses too. Jobs are returned in document order (object keys sorted), each
// ID once.

// Limits that keep a hostile or broken tree cheap to parse.
const (
	maxTreeJobs  = 1000 // jobs returned at most
	maxTreeDepth = 64   // JSON nesting levels walked
)

var (
	idKeys     = []string{"jobid", "requestid", "reqstid", "essrequestid"}
	nameKeys   = []string{"jobname", "name", "jobdefname", "jobdefinitionname", "definition"}
	stateKeys  = []string{"status", "requeststatus", "state", "jobstatus"}
	parentKeys = []string{"parentrequestid", "parentid", "parentjobid"}
)

// parseJobTree returns every job described by the JSON document doc. A
// document that is itself a JSON string holding JSON (double encoding) is
// unwrapped once. An empty document has no jobs.
func parseJobTree(doc []byte) ([]JobInfo, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		return nil, nil
	}
	var v any
	for range 2 {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if dec.More() {
			return nil, errors.New("trailing data after job tree")
		}
		s, ok := v.(string)
		if !ok {
			break
		}
		doc = bytes.TrimSpace([]byte(s))
		if len(doc) == 0 {
			return nil, nil
		}
		if doc[0] != '{' && doc[0] != '[' {
			return nil, errors.New("job tree is a plain string")
		}
	}
	if _, ok := v.(string); ok {
		return nil, errors.New("job tree is a plain string")
	}
	w := treeWalker{seen: map[string]bool{}}
	w.walk(v, "", 0)
	return w.jobs, nil
}

type treeWalker struct {
	jobs []JobInfo
	seen map[string]bool
}

// walk visits v; parent is the ID of the nearest enclosing job.
func (w *treeWalker) walk(v any, parent string, depth int) {
	if depth > maxTreeDepth || len(w.jobs) >= maxTreeJobs {
		return
	}
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			w.walk(e, parent, depth+1)
		}
	case map[string]any:
		fields := normalizeKeys(v)
		id := scalar(first(fields, idKeys))
		if id != "" {
			job := JobInfo{
				RequestID: id,
				Name:      scalar(first(fields, nameKeys)),
				State:     ParseState(scalar(first(fields, stateKeys))),
				ParentID:  parent,
			}
			if p := scalar(first(fields, parentKeys)); p != "" {
				job.ParentID = p
			}
			if job.State == "" {
				job.State = StateUnknown
			}
			if job.ParentID == id {
				job.ParentID = ""
			}
			if !w.seen[id] {
				w.seen[id] = true
				w.jobs = append(w.jobs, job)
			}
			parent = id
		}
		keys := make([]string, 0, len(v))
		for k, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			w.walk(v[k], parent, depth+1)
		}
	}
}

// normalizeKeys maps lower-cased keys without '_' to their values.
func normalizeKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ReplaceAll(strings.ToLower(k), "_", "")] = v
	}
	return out
}

// first returns the value of the first key in keys that fields holds.
func first(fields map[string]any, keys []string) any {
	for _, k := range keys {
		if v, ok := fields[k]; ok && v != nil {
			return v
		}
	}
	return nil
}

// scalar returns a string or number value as trimmed text; anything else is "".
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	return ""
}
