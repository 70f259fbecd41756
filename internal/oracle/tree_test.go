package oracle

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseJobTree(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []JobInfo
	}{
		{
			name: "simulator shape, nested JOBS",
			doc: `{"JOBS":{"JOBID":"14557","JOBNAME":"BudgetImport","JOBPATH":"/oracle/x","STATUS":"SUCCEEDED",
				"JOBS":[{"JOBID":"14558","JOBNAME":"BudgetImportChild","STATUS":"WARNING"}]}}`,
			want: []JobInfo{
				{RequestID: "14557", Name: "BudgetImport", State: StateSucceeded},
				{RequestID: "14558", Name: "BudgetImportChild", State: StateWarning, ParentID: "14557"},
			},
		},
		{
			name: "double encoded string",
			doc:  `"{\"JOBS\":{\"JOBID\":14557,\"STATUS\":\"RUNNING\"}}"`,
			want: []JobInfo{{RequestID: "14557", State: StateRunning}},
		},
		{
			name: "REQUESTID and CHILD, numbers, single child object",
			doc: `{"JOBS":{"JOBNAME":"Load Interface File for Import","REQUESTID":2529,"STATUS":"SUCCEEDED",
				"CHILD":{"JOBNAME":"Transfer File","REQUESTID":2530,"STATUS":"SUCCEEDED",
				"CHILD":[{"JOBNAME":"Load File to Interface","REQUESTID":2531,"STATUS":"ERROR"}]}}}`,
			want: []JobInfo{
				{RequestID: "2529", Name: "Load Interface File for Import", State: StateSucceeded},
				{RequestID: "2530", Name: "Transfer File", State: StateSucceeded, ParentID: "2529"},
				{RequestID: "2531", Name: "Load File to Interface", State: StateError, ParentID: "2530"},
			},
		},
		{
			name: "flat list with explicit parents and camel case",
			doc: `[{"requestId":"10","jobName":"Parent","state":"succeeded"},
				{"requestId":"11","parentRequestId":"10","jobName":"Kid","state":"WARNING"}]`,
			want: []JobInfo{
				{RequestID: "10", Name: "Parent", State: StateSucceeded},
				{RequestID: "11", Name: "Kid", State: StateWarning, ParentID: "10"},
			},
		},
		{
			name: "snake case keys and missing status",
			doc:  `{"items":[{"REQUEST_ID":"7","JOB_NAME":"X"}]}`,
			want: []JobInfo{{RequestID: "7", Name: "X", State: StateUnknown}},
		},
		{
			name: "duplicate IDs kept once",
			doc:  `[{"JOBID":"1","STATUS":"SUCCEEDED"},{"JOBID":"1","STATUS":"ERROR"}]`,
			want: []JobInfo{{RequestID: "1", State: StateSucceeded}},
		},
		{
			name: "self parent is dropped",
			doc:  `{"JOBID":"5","PARENTID":"5","STATUS":"RUNNING"}`,
			want: []JobInfo{{RequestID: "5", State: StateRunning}},
		},
		{name: "empty document", doc: ``, want: nil},
		{name: "empty string", doc: `""`, want: nil},
		{name: "no jobs", doc: `{"JOBS":{}}`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseJobTree([]byte(tt.doc))
			if err != nil {
				t.Fatalf("parseJobTree: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseJobTree =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseJobTreeRejects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{name: "not JSON", doc: `JOBS: 14557 SUCCEEDED`},
		{name: "plain status string", doc: `"SUCCEEDED"`},
		{name: "truncated", doc: `{"JOBS":{"JOBID":"1"`},
		{name: "trailing data", doc: `{"JOBID":"1"} {"JOBID":"2"}`},
		{name: "triple encoded", doc: `"\"{}\""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseJobTree([]byte(tt.doc)); err == nil {
				t.Errorf("parseJobTree(%s) = %+v, want an error", tt.doc, got)
			}
		})
	}
}

func TestParseJobTreeLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range 3 * maxTreeJobs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"JOBID":` + strconv.Itoa(i+1) + `}`)
	}
	b.WriteString("]")
	jobs, err := parseJobTree([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != maxTreeJobs {
		t.Errorf("got %d jobs, want the cap %d", len(jobs), maxTreeJobs)
	}

	deep := strings.Repeat(`{"JOBID":"1","JOBS":`, 500) + `{}` + strings.Repeat("}", 500)
	if _, err := parseJobTree([]byte(deep)); err != nil {
		t.Fatalf("deep tree: %v", err)
	}
}

func TestParseJobTreeTestdata(t *testing.T) {
	data, err := os.ReadFile("testdata/execution_details_response.json")
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Items []struct{ RequestStatus json.RawMessage }
	}
	if err := json.Unmarshal(data, &resp); err != nil || len(resp.Items) != 1 {
		t.Fatalf("testdata: %v, %d items", err, len(resp.Items))
	}
	jobs, err := parseJobTree(resp.Items[0].RequestStatus)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 4 {
		t.Fatalf("got %d jobs, want 4: %+v", len(jobs), jobs)
	}
	warn := jobs[3]
	if warn.State != StateWarning || warn.ParentID != jobs[2].RequestID {
		t.Errorf("last job = %+v, want a WARNING child of %s", warn, jobs[2].RequestID)
	}
}

func FuzzParseJobTree(f *testing.F) {
	f.Add([]byte(`{"JOBS":{"JOBID":"14557","STATUS":"SUCCEEDED","JOBS":[{"JOBID":"14558","STATUS":"WARNING"}]}}`))
	f.Add([]byte(`"{\"JOBS\":{\"REQUESTID\":1,\"CHILD\":{\"REQUESTID\":2}}}"`))
	f.Add([]byte(`[{"requestId":1,"parentRequestId":2},{"requestId":2,"parentRequestId":1}]`))
	f.Add([]byte(`{"JOBID":{"x":1},"STATUS":[1,2]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		jobs, err := parseJobTree(doc)
		if err != nil {
			return
		}
		if len(jobs) > maxTreeJobs {
			t.Fatalf("%d jobs, more than the cap", len(jobs))
		}
		seen := map[string]bool{}
		for _, j := range jobs {
			if j.RequestID == "" {
				t.Fatalf("job without ID: %+v", j)
			}
			if seen[j.RequestID] {
				t.Fatalf("ID %s twice", j.RequestID)
			}
			seen[j.RequestID] = true
			if j.ParentID == j.RequestID {
				t.Fatalf("job is its own parent: %+v", j)
			}
			if j.State == "" {
				t.Fatalf("job without state: %+v", j)
			}
		}
	})
}
