package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub is a local stand-in for the Hugging Face hub and its CDN, on two
// servers (so the CDN is a different host, as in reality). It serves the
// tree API with pagination, resolve URLs that redirect LFS files to the CDN,
// byte ranges, the hub's error codes, and injectable faults.
type fakeHub struct {
	hub, cdn *httptest.Server
	token    string // the token that opens private repositories

	mu       sync.Mutex
	repos    map[string]*fakeRepo // by lower-cased id
	blobs    map[string][]byte    // LFS contents by sha256
	pageSize int
	requests []fakeRequest
	// Faults, keyed by the content's sha256 (LFS files, served by the CDN)
	// or git blob id (small files, served by the hub).
	cuts        map[string]int // drop the connection after cutAt bytes this many more times
	cutAt       int
	corrupt     map[string]bool // serve one byte changed
	stall       map[string]bool // send half the body, then hang until the client gives up
	ignoreRange bool            // answer Range requests with the whole file
}

type fakeRepo struct {
	id      string
	files   map[string][]byte
	sha256  map[string]string // by path, computed once: hashing per request would dominate benchmarks
	gitOID  map[string]string
	private bool // 401 without the token
	gated   bool // 403 GatedRepo for everyone
}

type fakeRequest struct {
	server, path, rangeHdr, auth string
}

const fakeCommit = "0123456789abcdef0123456789abcdef01234567"

func newFakeHub(t testing.TB) *fakeHub {
	h := &fakeHub{
		token:    "hf_test_token",
		repos:    map[string]*fakeRepo{},
		blobs:    map[string][]byte{},
		pageSize: 1000,
		cuts:     map[string]int{},
		corrupt:  map[string]bool{},
		stall:    map[string]bool{},
	}
	h.hub = httptest.NewServer(h.record("hub", http.HandlerFunc(h.route)))
	cdnMux := http.NewServeMux()
	cdnMux.HandleFunc("GET /blob/{sha}", h.serveBlob)
	h.cdn = httptest.NewServer(h.record("cdn", cdnMux))
	t.Cleanup(func() {
		h.hub.Close()
		h.cdn.Close()
	})
	return h
}

// addRepo adds a repository. Files ending in .gguf or .safetensors are
// stored "with LFS": listed with a sha256 and served through the CDN.
func (h *fakeHub) addRepo(id string, files map[string][]byte) *fakeRepo {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := &fakeRepo{id: id, files: files, sha256: map[string]string{}, gitOID: map[string]string{}}
	h.repos[strings.ToLower(id)] = r
	for p, b := range files {
		r.sha256[p], r.gitOID[p] = sha256Hex(b), gitOID(b)
		if isLFS(p) {
			h.blobs[r.sha256[p]] = b
		}
	}
	return r
}

func (h *fakeHub) record(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, fakeRequest{server, r.URL.Path, r.Header.Get("Range"), r.Header.Get("Authorization")})
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// requestsTo returns the requests a server received, in order.
func (h *fakeHub) requestsTo(server string) []fakeRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fakeRequest
	for _, r := range h.requests {
		if r.server == server {
			out = append(out, r)
		}
	}
	return out
}

// route dispatches hub requests by hand: the two URL shapes overlap as
// ServeMux patterns. Revisions arrive path-escaped ("refs%2Fpr%2F1").
func (h *fakeHub) route(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		segs[i] = u
	}
	switch {
	case r.Method == http.MethodGet && len(segs) == 6 && segs[0] == "api" && segs[1] == "models" && segs[4] == "tree":
		r.SetPathValue("owner", segs[2])
		r.SetPathValue("name", segs[3])
		r.SetPathValue("rev", segs[5])
		h.serveTree(w, r)
	case r.Method == http.MethodGet && len(segs) >= 5 && segs[2] == "resolve":
		r.SetPathValue("owner", segs[0])
		r.SetPathValue("name", segs[1])
		r.SetPathValue("rev", segs[3])
		r.SetPathValue("path", strings.Join(segs[4:], "/"))
		h.serveResolve(w, r)
	default:
		http.NotFound(w, r)
	}
}

func isLFS(path string) bool {
	return strings.HasSuffix(path, ".gguf") || strings.HasSuffix(path, ".safetensors")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gitOID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// access applies the hub's rules: a missing or private repository is a 401
// without a valid token (the hub does not reveal which), a missing one a 404
// with it, and a gated one a 403.
func (h *fakeHub) access(w http.ResponseWriter, r *http.Request) (*fakeRepo, bool) {
	id := r.PathValue("owner") + "/" + r.PathValue("name")
	authed := r.Header.Get("Authorization") == "Bearer "+h.token
	h.mu.Lock()
	repo := h.repos[strings.ToLower(id)]
	h.mu.Unlock()
	fail := func(status int, code, msg string) (*fakeRepo, bool) {
		w.Header().Set("X-Error-Code", code)
		w.Header().Set("X-Error-Message", msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return nil, false
	}
	switch {
	case (repo == nil || repo.private) && !authed:
		return fail(http.StatusUnauthorized, "RepoNotFound", "Invalid username or password.")
	case repo == nil:
		return fail(http.StatusNotFound, "RepoNotFound", "Repository not found")
	case repo.gated:
		return fail(http.StatusForbidden, "GatedRepo", "Access to model "+repo.id+" is restricted.")
	}
	if rev := r.PathValue("rev"); rev != "main" && rev != fakeCommit {
		return fail(http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
	}
	return repo, true
}

func (h *fakeHub) serveTree(w http.ResponseWriter, r *http.Request) {
	repo, ok := h.access(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("recursive") != "true" {
		http.Error(w, "this fake only lists recursively", http.StatusBadRequest)
		return
	}
	type lfs struct {
		OID         string `json:"oid"`
		Size        int    `json:"size"`
		PointerSize int    `json:"pointerSize"`
	}
	type entry struct {
		Type string `json:"type"`
		OID  string `json:"oid"`
		Size int    `json:"size"`
		Path string `json:"path"`
		LFS  *lfs   `json:"lfs,omitempty"`
	}
	var entries []entry
	dirs := map[string]bool{}
	for p, b := range repo.files {
		e := entry{Type: "file", OID: repo.gitOID[p], Size: len(b), Path: p}
		if isLFS(p) {
			pointer := []byte("version https://git-lfs.github.com/spec/v1\noid sha256:" + repo.sha256[p] + "\nsize " + strconv.Itoa(len(b)) + "\n")
			e.OID, e.Size = gitOID(pointer), len(pointer)
			e.LFS = &lfs{OID: repo.sha256[p], Size: len(b), PointerSize: len(pointer)}
		}
		entries = append(entries, e)
		if i := strings.LastIndex(p, "/"); i > 0 && !dirs[p[:i]] {
			dirs[p[:i]] = true
			entries = append(entries, entry{Type: "directory", OID: strings.Repeat("d", 40), Path: p[:i]})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	h.mu.Lock()
	size := h.pageSize
	h.mu.Unlock()
	end := min(start+size, len(entries))
	if end < len(entries) {
		next := *r.URL
		q := next.Query()
		q.Set("cursor", strconv.Itoa(end))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, h.hub.URL+next.RequestURI()))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(entries[start:end])
}

func (h *fakeHub) serveResolve(w http.ResponseWriter, r *http.Request) {
	repo, ok := h.access(w, r)
	if !ok {
		return
	}
	path := r.PathValue("path")
	b, ok := repo.files[path]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.Header().Set("X-Error-Message", "Entry not found")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", fakeCommit)
	if isLFS(path) {
		sum := repo.sha256[path]
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
		http.Redirect(w, r, h.cdn.URL+"/blob/"+sum, http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+repo.gitOID[path]+`"`)
	h.serveBytes(w, r, b, repo.gitOID[path])
}

func (h *fakeHub) serveBlob(w http.ResponseWriter, r *http.Request) {
	sum := r.PathValue("sha")
	h.mu.Lock()
	content := h.blobs[sum]
	h.mu.Unlock()
	if content == nil {
		http.NotFound(w, r)
		return
	}
	h.serveBytes(w, r, content, sum)
}

// serveBytes answers with b or the requested suffix of it, applying the
// faults registered for key.
func (h *fakeHub) serveBytes(w http.ResponseWriter, r *http.Request, b []byte, key string) {
	h.mu.Lock()
	cut := h.cuts[key] > 0
	if cut {
		h.cuts[key]--
	}
	cutAt, corrupt, stall, ignoreRange := h.cutAt, h.corrupt[key], h.stall[key], h.ignoreRange
	h.mu.Unlock()
	if corrupt {
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0xff
	}
	start := 0
	if rg := r.Header.Get("Range"); rg != "" && !ignoreRange {
		s, ok := strings.CutPrefix(rg, "bytes=")
		s, ok2 := strings.CutSuffix(s, "-")
		n, err := strconv.Atoi(s)
		if !ok || !ok2 || err != nil {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if n >= len(b) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(b)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(b)-1, len(b)))
	}
	body := b[start:]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Accept-Ranges", "bytes")
	if start > 0 {
		w.WriteHeader(http.StatusPartialContent)
	}
	switch {
	case cut:
		w.Write(body[:min(cutAt, len(body))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	case stall:
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		panic(http.ErrAbortHandler)
	}
	w.Write(body)
}

// options returns Options for this fake hub with a fresh cache and fast
// retries.
func (h *fakeHub) options(t testing.TB) Options {
	return Options{
		Endpoint:   h.hub.URL,
		CacheDir:   t.TempDir(),
		RetryDelay: time.Millisecond,
	}
}
