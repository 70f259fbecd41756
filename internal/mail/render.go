package mail

import (
	"embed"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/finance/fbdi-notify/internal/notification"
)

// templates holds, per notification type with a template of its own, and
// for "notification" (any other type) and "digest" (several at once, each
// by "digest_entry"), a plain-text file whose first line is the subject
// ("Subject: ...") and an HTML one. They are written in English: the
// profile's locale is not used yet.
//
// The format is deliberately small: {{name}} is replaced by a value
// (HTML-escaped in .html files), and a line whose placeholders are all
// empty is left out, which is how optional fields disappear. text/template
// and html/template would do, but their reflection (reflect's MethodByName)
// turns off the linker's dead-method elimination: the MailFunction
// bootstrap grew from 9 to 15 MB, over the functions' size budget.
//
//go:embed templates/*.txt templates/*.html
var templates embed.FS

// Template names besides the notification types.
const (
	templateOther  = "notification"
	templateDigest = "digest"
	templateEntry  = "digest_entry"
)

// timeLayout is how an e-mail writes a notification's time (UTC).
const timeLayout = "2 Jan 2006 15:04 UTC"

// Message is one rendered e-mail.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

var placeholder = regexp.MustCompile(`\{\{([a-z_]+)\}\}`)

// raw names the values that are rendered already: never escaped.
var raw = map[string]bool{"entries": true}

// fill replaces the placeholders of tpl by vars, escaping values with esc
// (nil: as they are) and leaving out the lines whose placeholders are all
// empty. A placeholder that vars lacks is an error.
func fill(name, tpl string, vars map[string]string, esc func(string) string) (string, error) {
	var out []string
	for line := range strings.SplitSeq(tpl, "\n") {
		matches := placeholder.FindAllStringSubmatch(line, -1)
		empty := len(matches) > 0
		for _, m := range matches {
			v, ok := vars[m[1]]
			if !ok {
				return "", fmt.Errorf("mail: template %s: unknown placeholder %s", name, m[0])
			}
			if v != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		out = append(out, placeholder.ReplaceAllStringFunc(line, func(p string) string {
			key := p[2 : len(p)-2]
			if esc != nil && !raw[key] {
				return esc(vars[key])
			}
			return vars[key]
		}))
	}
	return strings.Join(out, "\n"), nil
}

func load(name string) (text, htm string, err error) {
	t, err := templates.ReadFile("templates/" + name + ".txt")
	if err != nil {
		return "", "", fmt.Errorf("mail: template %s: %w", name, err)
	}
	h, err := templates.ReadFile("templates/" + name + ".html")
	if err != nil {
		return "", "", fmt.Errorf("mail: template %s: %w", name, err)
	}
	return string(t), string(h), nil
}

// vars are what the templates show of one notification.
func vars(n notification.Notification) map[string]string {
	v := map[string]string{"title": n.Message, "transaction": n.TransactionID, "kind": n.Kind, "outcome": n.Status,
		"detail": n.Error, "result_path": n.ResultPath, "when": n.Timestamp.UTC().Format(timeLayout), "transaction_ref": ""}
	switch n.Type {
	case notification.TypeUploadCompleted:
		v["outcome"] = "completed"
	case notification.TypeUploadFailed:
		v["outcome"] = "failed"
	}
	if v["title"] == "" {
		v["title"] = defaultTitle(n.Type)
	}
	if n.TransactionID != "" {
		v["transaction_ref"] = " (transaction " + n.TransactionID + ")"
	}
	var summary []string
	if n.TransactionID != "" {
		summary = append(summary, "transaction "+n.TransactionID)
	}
	if v["outcome"] != "" {
		summary = append(summary, v["outcome"])
	}
	s := strings.Join(summary, ", ")
	if n.Error != "" && s != "" {
		s += " (" + n.Error + ")"
	}
	v["summary_ref"], v["summary"] = "", ""
	if s != "" {
		v["summary_ref"] = ": " + s
		v["summary"] = strings.ToUpper(s[:1]) + strings.Replace(s[1:], ", ", ": ", 1)
	}
	return v
}

func defaultTitle(typ string) string {
	switch typ {
	case notification.TypeUploadCompleted:
		return "Upload completed"
	case notification.TypeUploadFailed:
		return "Upload failed"
	}
	return "New notification"
}

// Render returns the e-mail of notes: the template of the note's type (or
// "notification") for one note, else the digest, which says there are
// more when more is set. notes must not be empty.
func Render(notes []notification.Notification, more bool) (Message, error) {
	if len(notes) == 0 {
		return Message{}, fmt.Errorf("mail: render: no notifications")
	}
	name, v := templateDigest, map[string]string{}
	if len(notes) == 1 && !more {
		name, v = templateOther, vars(notes[0])
		switch notes[0].Type {
		case notification.TypeUploadCompleted, notification.TypeUploadFailed:
			name = notes[0].Type
		}
	} else {
		entryText, entryHTML, err := load(templateEntry)
		if err != nil {
			return Message{}, err
		}
		var texts, htmls []string
		failed := 0
		for _, n := range notes {
			ev := vars(n)
			if n.Type == notification.TypeUploadFailed {
				failed++
			}
			t, err := fill(templateEntry, strings.TrimSuffix(entryText, "\n"), ev, nil)
			if err != nil {
				return Message{}, err
			}
			h, err := fill(templateEntry, strings.TrimSuffix(entryHTML, "\n"), ev, html.EscapeString)
			if err != nil {
				return Message{}, err
			}
			texts, htmls = append(texts, t), append(htmls, h)
		}
		v["count"] = strconv.Itoa(len(notes))
		v["failed_ref"], v["more_ref"], v["more_line"] = "", "", ""
		if failed > 0 {
			v["failed_ref"] = ", " + strconv.Itoa(failed) + " failed"
		}
		if more {
			v["more_ref"] = " (and more in the notification centre)"
			v["more_line"] = "More are waiting in the notification centre."
		}
		v["entries"] = strings.Join(texts, "\n")
		v["entries_html"] = strings.Join(htmls, "\n")
	}
	text, htm, err := load(name)
	if err != nil {
		return Message{}, err
	}
	first, body, _ := strings.Cut(text, "\n")
	subjectLine, ok := strings.CutPrefix(first, "Subject: ")
	if !ok {
		return Message{}, fmt.Errorf("mail: template %s: the first line is not the subject", name)
	}
	subject, err := fill(name, subjectLine, v, nil)
	if err != nil {
		return Message{}, err
	}
	v["subject"] = oneLine(subject)
	msg := Message{Subject: v["subject"]}
	if msg.Text, err = fill(name, strings.TrimPrefix(body, "\n"), v, nil); err != nil {
		return Message{}, err
	}
	if entries, ok := v["entries_html"]; ok {
		v["entries"] = entries
	}
	if msg.HTML, err = fill(name, htm, v, html.EscapeString); err != nil {
		return Message{}, err
	}
	return msg, nil
}

// oneLine makes s fit a Subject header: no line breaks, at most 200 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:199], "") + "…"
	}
	return s
}
