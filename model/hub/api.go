package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RemoteFile is one file of a repository as the hub lists it.
type RemoteFile struct {
	Path string // path in the repository, '/'-separated
	Size int64
	// SHA256 is the hex sha256 of the content for files stored with git LFS
	// (all large files), or "".
	SHA256 string
	// GitOID is the git blob id (hex sha1 of "blob <size>\x00" + content).
	// For LFS files it identifies the pointer, not the content.
	GitOID string
}

// client talks to one hub endpoint.
type client struct {
	opts Options
	http *http.Client
	host string // the endpoint's host, the only one that gets the token
}

func newClient(opts Options) (*client, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub endpoint %q is not an http(s) URL", opts.Endpoint)
	}
	hc := http.Client{}
	if opts.Client != nil {
		hc = *opts.Client
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		base = t
	}
	hc.Transport = &authTransport{base: base, host: u.Host, token: opts.Token}
	return &client{opts: opts, http: &hc, host: u.Host}, nil
}

// authTransport adds the bearer token to requests for the endpoint's own
// host. Redirects to a CDN (another host) go without it: the CDN's URL is
// pre-signed, and the token must not leak to third parties.
type authTransport struct {
	base  http.RoundTripper
	host  string
	token string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" && req.URL.Host == t.host {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	} else if req.Header.Get("Authorization") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	return t.base.RoundTrip(req)
}

// treeURL is the listing of the whole repository at a revision.
func (c *client) treeURL(repo string) string {
	return c.opts.Endpoint + "/api/models/" + repo + "/tree/" + url.PathEscape(c.opts.Revision) + "?recursive=true"
}

// resolveURL is the download address of one file.
func (c *client) resolveURL(repo, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.opts.Endpoint + "/" + repo + "/resolve/" + url.PathEscape(c.opts.Revision) + "/" + strings.Join(segs, "/")
}

// Limits on what a listing may make us read, so a broken or hostile
// endpoint cannot exhaust memory.
const (
	maxListingPage  = 32 << 20
	maxListingPages = 1000
)

// treeEntry is one item of the tree API's answer.
type treeEntry struct {
	Type string `json:"type"` // "file" or "directory"
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

// listFiles returns every file of repo at the configured revision.
func (c *client) listFiles(ctx context.Context, repo string) ([]RemoteFile, error) {
	var files []RemoteFile
	next := c.treeURL(repo)
	for page := 0; next != ""; page++ {
		if page == maxListingPages {
			return nil, fmt.Errorf("list %s: more than %d pages", repo, maxListingPages)
		}
		entries, link, err := c.listPage(ctx, repo, next)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type != "file" {
				continue
			}
			if err := validRepoPath(e.Path); err != nil {
				return nil, fmt.Errorf("list %s: the hub listed a bad path: %w", repo, err)
			}
			f := RemoteFile{Path: e.Path, Size: e.Size, GitOID: strings.ToLower(e.OID)}
			if e.LFS != nil {
				f.SHA256 = strings.ToLower(e.LFS.OID)
				if e.LFS.Size > 0 {
					f.Size = e.LFS.Size
				}
			}
			if f.Size < 0 {
				return nil, fmt.Errorf("list %s: the hub listed %s with size %d", repo, f.Path, f.Size)
			}
			files = append(files, f)
		}
		next = link
	}
	return files, nil
}

func (c *client) listPage(ctx context.Context, repo, u string) ([]treeEntry, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", repo, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", networkError(ctx, c.opts.Endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", c.statusError(resp, repo, "")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListingPage+1))
	if err != nil {
		return nil, "", networkError(ctx, c.opts.Endpoint, err)
	}
	if len(body) > maxListingPage {
		return nil, "", fmt.Errorf("list %s: listing page larger than %d bytes", repo, maxListingPage)
	}
	var entries []treeEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, "", fmt.Errorf("list %s: %s did not answer with a file list (is HF_ENDPOINT a Hugging Face hub?): %v", repo, u, err)
	}
	next := nextLink(resp.Header.Values("Link"))
	if next != "" {
		// The link may be relative; resolve it against the page's URL.
		base, _ := url.Parse(u)
		ref, err := url.Parse(next)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: bad pagination link %q", repo, next)
		}
		next = base.ResolveReference(ref).String()
	}
	return entries, next, nil
}

// nextLink returns the URL of the rel="next" entry of Link headers.
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// HTTPError is a refusal from the hub, explained for the user.
type HTTPError struct {
	StatusCode int
	URL        string
	// Code is the hub's X-Error-Code header (RepoNotFound, EntryNotFound,
	// RevisionNotFound, GatedRepo, ...), or "".
	Code string
	// ServerMessage is the hub's X-Error-Message header or JSON "error", or "".
	ServerMessage string
	// Explanation says what probably happened and what to do.
	Explanation string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: %s", http.StatusText(e.StatusCode), e.Explanation)
	if e.StatusCode != 0 {
		msg = fmt.Sprintf("HTTP %d %s", e.StatusCode, msg)
	}
	if e.ServerMessage != "" {
		msg += " (hub says: " + e.ServerMessage + ")"
	}
	return msg
}

// Is lets errors.Is match ErrNotFound and ErrAccess.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || (e.StatusCode == http.StatusUnauthorized && e.Code == "RepoNotFound")
	case ErrAccess:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	}
	return false
}

// retryable reports whether the request may succeed if tried again.
func (e *HTTPError) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
}

// statusError explains a non-success answer about repo (and file, when not
// empty). The hub answers 401 both for private or gated repositories without
// a token and for repositories that do not exist.
func (c *client) statusError(resp *http.Response, repo, file string) error {
	e := &HTTPError{
		StatusCode:    resp.StatusCode,
		URL:           resp.Request.URL.String(),
		Code:          resp.Header.Get("X-Error-Code"),
		ServerMessage: serverMessage(resp),
	}
	what := repo
	if file != "" {
		what = file + " in " + repo
	}
	site := c.opts.Endpoint
	switch {
	case e.Code == "GatedRepo":
		e.Explanation = fmt.Sprintf("%s is a gated model: accept its conditions at %s/%s while logged in, then set HF_TOKEN to an access token of that account", repo, site, repo)
	case resp.StatusCode == http.StatusUnauthorized && c.opts.Token == "":
		e.Explanation = fmt.Sprintf("repository %s was not found on %s, or it is private or gated: check the name, and for a private or gated model set HF_TOKEN to an access token (%s/settings/tokens)", repo, site, site)
	case resp.StatusCode == http.StatusUnauthorized:
		e.Explanation = fmt.Sprintf("repository %s was not found on %s, or the token in HF_TOKEN is invalid or has no access to it", repo, site)
	case resp.StatusCode == http.StatusForbidden:
		e.Explanation = fmt.Sprintf("access to %s is forbidden: the token in HF_TOKEN lacks permission (or none is set)", repo)
	case e.Code == "RevisionNotFound":
		e.Explanation = fmt.Sprintf("revision %q does not exist in %s", c.opts.Revision, repo)
	case e.Code == "EntryNotFound" || (resp.StatusCode == http.StatusNotFound && file != ""):
		e.Explanation = fmt.Sprintf("%s was not found (revision %s)", what, c.opts.Revision)
	case resp.StatusCode == http.StatusNotFound:
		e.Explanation = fmt.Sprintf("repository %s (revision %s) was not found on %s", repo, c.opts.Revision, site)
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Explanation = "the hub is rate-limiting requests; wait a little and pull again (a token raises the limit)"
	case resp.StatusCode >= 500:
		e.Explanation = fmt.Sprintf("the hub failed to serve %s; try again later", what)
	default:
		e.Explanation = fmt.Sprintf("unexpected answer for %s", what)
	}
	return e
}

// serverMessage extracts the hub's own explanation from the headers or a
// small JSON body {"error": "..."}.
func serverMessage(resp *http.Response) string {
	if m := resp.Header.Get("X-Error-Message"); m != "" {
		return m
	}
	var body struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if json.Unmarshal(b, &body) == nil {
		return body.Error
	}
	return ""
}

// NetworkError is a failure to talk to the hub at all.
type NetworkError struct {
	Endpoint string
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot reach %s: %v (check the network connection, or HF_ENDPOINT if you use a mirror)", e.Endpoint, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// networkError wraps a transport error, leaving cancellation as it is so
// that callers see context.Canceled.
func networkError(ctx context.Context, endpoint string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &NetworkError{Endpoint: endpoint, Err: err}
}

// isRetryable reports whether a download attempt that failed with err should
// be tried again.
func isRetryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.retryable()
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStalled) || errors.Is(err, errRestart)
}
