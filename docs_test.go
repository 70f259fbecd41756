package fbdinotify_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/finance/fbdi-notify/internal/metrics"
)

// section returns the part of a Markdown document under the heading
// (a whole line, e.g. "### The metrics") up to the next heading of the same
// or a higher level.
func section(tb testing.TB, doc, heading string) string {
	tb.Helper()
	level := strings.Index(heading, " ")
	lines := strings.Split(doc, "\n")
	start := slices.Index(lines, heading)
	if start < 0 {
		tb.Fatalf("no heading %q", heading)
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if n := strings.IndexFunc(lines[i], func(r rune) bool { return r != '#' }); n > 0 && n <= level && strings.HasPrefix(lines[i][n:], " ") {
			end = i
			break
		}
	}
	return strings.Join(lines[start:end], "\n")
}

// TestOperationsDocCoversTheTemplate: docs/operations.md documents every
// metric the functions record, every alarm of the template (a runbook entry
// per alarm; the functions' error and throttle alarms share one each), and
// every template parameter, so the operator's reference cannot fall behind.
func TestOperationsDocCoversTheTemplate(t *testing.T) {
	data, err := os.ReadFile("docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	tmplData, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := parseTemplate(t, tmplData)

	t.Run("metrics", func(t *testing.T) {
		table := section(t, doc, "### The metrics")
		for _, name := range metrics.Names {
			if !strings.Contains(table, "| `"+name+"` |") {
				t.Errorf("metric %s has no row in docs/operations.md, The metrics", name)
			}
		}
		for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (?:Count|Milliseconds|None)").FindAllStringSubmatch(table, -1) {
			if !slices.Contains(metrics.Names, m[1]) {
				t.Errorf("docs/operations.md documents metric %s, which no function records", m[1])
			}
		}
	})

	t.Run("alarms", func(t *testing.T) {
		functionAlarm := regexp.MustCompile(`^(\w+)-(errors|throttles)$`)
		alarms := tmpl.ids("AWS::CloudWatch::Alarm")
		if len(alarms) == 0 {
			t.Fatal("the template has no alarm")
		}
		for _, id := range alarms {
			name := render(tmpl.Resources[id].Properties["AlarmName"])
			suffix, ok := strings.CutPrefix(name, "${AWS::StackName}-")
			if !ok {
				t.Errorf("%s: AlarmName %q does not start with the stack's name", id, name)
				continue
			}
			heading := "### " + suffix
			if m := functionAlarm.FindStringSubmatch(suffix); m != nil && tmpl.Resources[strings.ToUpper(m[1][:1])+m[1][1:]+"Function"] != nil {
				heading = "### Function " + m[2]
			}
			if !strings.Contains(doc, "\n"+heading+"\n") {
				t.Errorf("%s (%s) has no runbook entry %q in docs/operations.md", id, suffix, heading)
			}
		}
	})

	t.Run("parameters", func(t *testing.T) {
		// The names in the first column of the table's rows.
		documented := map[string]bool{}
		for _, line := range strings.Split(section(t, doc, "### Template parameters"), "\n") {
			cells := strings.Split(line, "|")
			if len(cells) < 3 {
				continue
			}
			for _, m := range regexp.MustCompile("`(\\w+)`").FindAllStringSubmatch(cells[1], -1) {
				documented[m[1]] = true
			}
		}
		for name := range tmpl.Parameters {
			if !documented[name] {
				t.Errorf("parameter %s has no row in docs/operations.md, Template parameters", name)
			}
		}
	})
}
