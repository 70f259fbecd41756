package fbdi

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"
)

// unzipOne opens a zip that must hold exactly one file and returns its name and content.
func unzipOne(t testing.TB, data []byte) (string, []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open zip: %v", err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip holds %d files, want 1", len(zr.File))
	}
	f := zr.File[0]
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	content, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", f.Name, err)
	}
	return f.Name, content
}

func TestZip(t *testing.T) {
	csv := []byte("HYPERION,MIC_HQ_MONTHLY,MIC_HQ_MONTHLY_555,1,-650,AED,Sep-25,,10001,,5010016\n")
	first, err := Zip(BudgetFileName, csv)
	if err != nil {
		t.Fatal(err)
	}
	name, content := unzipOne(t, first)
	if name != BudgetFileName || !bytes.Equal(content, csv) {
		t.Errorf("zip holds %q = %q, want %q at the root", name, content, BudgetFileName)
	}
	zr, _ := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if h := zr.File[0].FileHeader; h.Method != zip.Deflate || !h.Modified.Equal(zipTime) {
		t.Errorf("header method %d, modified %v; want deflate at %v", h.Method, h.Modified, zipTime)
	}
	second, err := Zip(BudgetFileName, bytes.Clone(csv))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("the same input gave different zips")
	}
	other, _ := Zip(JournalFileName, csv)
	if bytes.Equal(first, other) {
		t.Error("a different file name gave the same zip")
	}
	empty, err := Zip(JournalFileName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if name, content := unzipOne(t, empty); name != JournalFileName || len(content) != 0 {
		t.Errorf("empty zip holds %q with %d bytes", name, len(content))
	}
}

func TestZipRejectsPaths(t *testing.T) {
	tests := []struct {
		name     string
		fileName string
	}{
		{name: "empty", fileName: ""},
		{name: "dot", fileName: "."},
		{name: "parent", fileName: ".."},
		{name: "directory", fileName: "dir/GlInterface.csv"},
		{name: "escape", fileName: "../GlInterface.csv"},
		{name: "absolute", fileName: "/GlInterface.csv"},
		{name: "backslash", fileName: `dir\GlInterface.csv`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Zip(tt.fileName, []byte("x")); err == nil {
				t.Errorf("Zip(%q) succeeded", tt.fileName)
			}
		})
	}
}
