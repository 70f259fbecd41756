package fbdi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// message is the workflow queue body (docs/protocol.md#workflow-queue), as far as these tests need it.
type message[L any] struct {
	Kind          string `json:"kind"`
	TransactionID string `json:"transaction_id"`
	UserID        string `json:"user_id"`
	Lines         []L    `json:"lines"`
}

// readMessage decodes testdata/name as a workflow message.
func readMessage[L any](t testing.TB, name string) message[L] {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m message[L]
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return m
}

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update after checking it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// readCSV parses data, requiring columns fields in every row.
func readCSV(t testing.TB, data []byte, columns int) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = columns
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read csv: %v", err)
	}
	return rows
}

// problemsOf returns the problems of a *ValidationError, failing on other errors.
func problemsOf(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
	return ve.Problems
}

// checkProblems compares the problems of err with want, exactly and in order.
func checkProblems(t testing.TB, err error, want []string) {
	t.Helper()
	got := problemsOf(t, err)
	for _, p := range got {
		if strings.Contains(p, ";") {
			t.Errorf("problem %q contains ';', the separator ValidationError.Error uses", p)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func mustAmount(t testing.TB, s string) Amount {
	t.Helper()
	a, err := ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustInteger(t testing.TB, s string) Integer {
	t.Helper()
	n, err := ParseInteger(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rawAmount is an amount as decoded from JSON, valid or not.
func rawAmount(s string) Amount { return Amount{text: s, set: s != ""} }

// rawInteger is a number as decoded from JSON, valid or not.
func rawInteger(s string) Integer { return Integer{text: s, set: s != ""} }
