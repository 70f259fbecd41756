package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVendor(t *testing.T) {
	installed := t.TempDir()
	for name, rel := range VendorFiles {
		p := filepath.Join(installed, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("// "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		modules  string // the node_modules directory given to Vendor
		path     string
		status   int
		contains string // in the body
		mime     string // prefix of Content-Type, when checked
	}{
		{name: "a pinned file", modules: installed, path: "/vendor/vue.esm-browser.prod.js", status: 200, contains: "// vue.esm-browser.prod.js", mime: "text/javascript"},
		{name: "another pinned file", modules: installed, path: "/vendor/react.production.min.js", status: 200, contains: "// react.production.min.js"},
		{name: "not a vendor name", modules: installed, path: "/vendor/package.json", status: 404, contains: "404 page not found"},
		{name: "no traversal", modules: installed, path: "/vendor/..%2Freact%2Fpackage.json", status: 404},
		{name: "node_modules missing", modules: "", path: "/vendor/htm.module.js", status: 404, contains: "run npm ci in web/"},
		{name: "file missing", modules: t.TempDir(), path: "/vendor/htm.module.js", status: 404, contains: "run npm ci in web/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("GET /vendor/{name}", Vendor(tt.modules))
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, body)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body %q does not contain %q", body, tt.contains)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.mime) {
				t.Errorf("Content-Type %q, want %q...", got, tt.mime)
			}
		})
	}
}

func TestFindModules(t *testing.T) {
	root := t.TempDir()
	modules := filepath.Join(root, "web", "node_modules")
	deep := filepath.Join(root, "infra", "local")
	for _, d := range []string{modules, deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{name: "from the root", dir: root, want: modules},
		{name: "from a subdirectory", dir: deep, want: modules},
		{name: "none above", dir: t.TempDir(), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FindModules(tt.dir); got != tt.want {
				t.Errorf("FindModules(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

// TestEmbedded checks that the library, its declarations and the examples are
// in Files, so the stack serves them.
func TestEmbedded(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "lib/notifications.js", "lib/notifications.d.ts",
		"lib/feed.js", "lib/notification-center.js", "lib/react.js", "lib/vue.js",
		"examples/vanilla.html", "examples/react.html", "examples/vue.html"} {
		if _, err := Files.Open(name); err != nil {
			t.Errorf("%s is not embedded: %v", name, err)
		}
	}
}
