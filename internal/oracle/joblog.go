package oracle

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits for JobLog. The zip comes from the network: its declared sizes are
// not trusted, and reading stops once maxLogRead uncompressed bytes have been
// inflated in total, whatever the entries claim (a zip bomb costs at most that).
const (
	maxLogExcerpt = 4096    // bytes of text JobLog returns at most (plus file headers)
	maxLogPerFile = 2048    // bytes one file contributes at most
	maxLogRead    = 8 << 20 // uncompressed bytes inflated at most, all entries together
	maxLogEntries = 64      // zip entries considered at most
)

// logExcerpt returns a bounded text excerpt of an ESS log zip: the tail of
// each .log file, then of each .out file (then of other files, when there is
// neither), each under a "--- name ---" header, at most maxLogPerFile bytes a
// file and maxLogExcerpt bytes in all. A tail that was cut starts with "…".
func logExcerpt(zipData []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return "", fmt.Errorf("log is not a zip: %w", err)
	}
	var logs, outs, others []*zip.File
	for i, f := range zr.File {
		if i >= maxLogEntries {
			break
		}
		if f.FileInfo().IsDir() {
			continue
		}
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".log":
			logs = append(logs, f)
		case ".out":
			outs = append(outs, f)
		default:
			others = append(others, f)
		}
	}
	byName := func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(logs, byName)
	slices.SortFunc(outs, byName)
	slices.SortFunc(others, byName)
	files := append(logs, outs...)
	if len(files) == 0 {
		files = others
	}

	var b strings.Builder
	budget := maxLogExcerpt
	readLeft := int64(maxLogRead)
	for _, f := range files {
		if budget <= 0 {
			break
		}
		n := min(budget, maxLogPerFile)
		text, read, err := tailOf(f, n, readLeft)
		readLeft -= read
		if err != nil {
			fmt.Fprintf(&b, "--- %s ---\n[unreadable: %v]\n", cleanText(f.Name), err)
			continue
		}
		fmt.Fprintf(&b, "--- %s ---\n%s", cleanText(f.Name), text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
		budget -= len(text)
		if readLeft <= 0 {
			b.WriteString("[log truncated: size limit reached]\n")
			break
		}
	}
	return b.String(), nil
}

// tailOf inflates f, reading at most limit bytes, and returns its last n bytes
// as clean text and how many bytes it inflated.
func tailOf(f *zip.File, n int, limit int64) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	t := tail{n: n}
	read, err := io.Copy(&t, io.LimitReader(rc, limit))
	if err != nil {
		return "", read, err
	}
	text := cleanText(string(t.bytes()))
	if t.cut {
		text = "…" + text
	}
	return text, read, nil
}

// tail is an io.Writer that keeps the last n bytes written.
type tail struct {
	n   int
	buf []byte
	cut bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
		t.cut = true
	}
	return len(p), nil
}

// bytes returns the kept tail, not starting inside a UTF-8 character.
func (t *tail) bytes() []byte {
	b := t.buf
	if len(b) > t.n {
		b = b[len(b)-t.n:]
		t.cut = true
	}
	if t.cut {
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
	}
	return b
}

// cleanText makes s valid UTF-8 and drops control characters other than
// newline and tab, so an excerpt is safe to put in a message or a log line.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return -1
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}
