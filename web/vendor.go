package web

import (
	"net/http"
	"os"
	"path/filepath"
)

// VendorFiles maps each name served under /vendor/ to its file under
// web/node_modules, at the versions pinned in web/package-lock.json. Only
// these are served: the examples import nothing else, and nothing is
// fetched from the internet at page load.
var VendorFiles = map[string]string{
	"react.production.min.js":     "react/umd/react.production.min.js",
	"react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
	"vue.esm-browser.prod.js":     "vue/dist/vue.esm-browser.prod.js",
	"htm.module.js":               "htm/dist/htm.module.js",
}

// MissingModules is the body of the 404 for a /vendor/ file that is not installed.
const MissingModules = "run npm ci in web/ (web/node_modules is missing)\n"

// FindModules returns the web/node_modules directory found from dir or one of
// its parents (the local stack runs from the repository root or, in tests,
// from infra/local), or "" when there is none.
func FindModules(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		m := filepath.Join(abs, "web", "node_modules")
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			return m
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

// Vendor serves VendorFiles from the node_modules directory modules, for
// requests whose path is /vendor/{name}. An unknown name is a 404; a known
// one that is not installed (modules empty or the file absent) is a 404 whose
// text says to run npm ci in web/.
func Vendor(modules string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel, ok := VendorFiles[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		path := filepath.Join(modules, filepath.FromSlash(rel))
		if _, err := os.Stat(path); modules == "" || err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(MissingModules))
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, path)
	})
}
