package oracle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

// zipOf returns a zip holding files, in order (name, content, name, content...).
func zipOf(tb testing.TB, files ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, files[i+1]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestLogExcerpt(t *testing.T) {
	long := strings.Repeat("filler line of an ESS log\n", 500) + "ERROR: budget entry MIC_555 rejected: period Sep-25 is closed\n"
	tests := []struct {
		name     string
		zip      []byte
		contains []string
		excludes []string
		order    []string // substrings that must appear in this order
	}{
		{
			name:     "log then out",
			zip:      zipOf(t, "14557.out", "Rows rejected: 2\n", "14557.log", "Import started\nImport ended with warnings\n"),
			contains: []string{"--- 14557.log ---", "Import ended with warnings", "--- 14557.out ---", "Rows rejected: 2"},
			order:    []string{"14557.log", "14557.out"},
		},
		{
			name:     "tail of a long log keeps the end",
			zip:      zipOf(t, "1.log", long),
			contains: []string{"…", "period Sep-25 is closed"},
		},
		{
			name:     "other files only when no log or out",
			zip:      zipOf(t, "report.txt", "only text", "dir/", ""),
			contains: []string{"--- report.txt ---", "only text"},
		},
		{
			name:     "other files skipped next to a log",
			zip:      zipOf(t, "a.log", "the log", "b.xml", "<xml/>"),
			contains: []string{"the log"},
			excludes: []string{"<xml/>"},
		},
		{
			name:     "control characters removed",
			zip:      zipOf(t, "a.log", "bell\x07 and nul\x00 and \r\nnext\xff line"),
			contains: []string{"bell and nul and \nnext\uFFFD line"},
		},
		{name: "empty zip", zip: zipOf(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := logExcerpt(tt.zip)
			if err != nil {
				t.Fatalf("logExcerpt: %v", err)
			}
			if len(got) > maxLogExcerpt+512 {
				t.Errorf("excerpt is %d bytes, want about %d at most", len(got), maxLogExcerpt)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("excerpt lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(got, s) {
					t.Errorf("excerpt has %q:\n%s", s, got)
				}
			}
			last := -1
			for _, s := range tt.order {
				i := strings.Index(got, s)
				if i < last {
					t.Errorf("%q out of order in:\n%s", s, got)
				}
				last = i
			}
		})
	}
}

func TestLogExcerptBounds(t *testing.T) {
	var files []string
	for i := range 10 {
		files = append(files, string(rune('a'+i))+".log", strings.Repeat("x", 3000))
	}
	got, err := logExcerpt(zipOf(t, files...))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "x"); n > maxLogExcerpt {
		t.Errorf("excerpt holds %d bytes of logs, want at most %d", n, maxLogExcerpt)
	}
	if strings.Count(got, "--- ") != 2 {
		t.Errorf("want two files of %d bytes each in the excerpt, got:\n%.300s", maxLogPerFile, got)
	}
}

// TestLogExcerptZipBomb proves the inflated bytes are bounded: the entry
// inflates to 4 × maxLogRead, and the entry header lies about its size.
func TestLogExcerptZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	w, err := zw.Create("bomb.log")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{'0'}, 1<<20)
	for range 4 * maxLogRead / len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	w2, _ := zw.Create("after.out")
	_, _ = io.WriteString(w2, "never read")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := logExcerpt(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "[log truncated: size limit reached]") {
		t.Errorf("no truncation note in:\n%.200s", got)
	}
	if strings.Contains(got, "never read") {
		t.Error("read past the inflate limit")
	}
	if len(got) > maxLogExcerpt+512 {
		t.Errorf("excerpt is %d bytes", len(got))
	}
}

func TestLogExcerptNotZip(t *testing.T) {
	if _, err := logExcerpt([]byte("plain text, not a zip")); err == nil {
		t.Error("want an error for content that is not a zip")
	}
}
