// Package hub downloads models from the Hugging Face hub into a local model
// cache, lists and removes cached models, and resolves the -m argument (a
// file, a directory, a short name or a repository id) to a local path.
//
// It speaks the hub's public HTTP API, as huggingface_hub does:
//
//	GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true
//	    the file list, with sizes, git blob ids and the sha256 of LFS files
//	    (paginated with a Link: <...>; rel="next" header)
//	GET {endpoint}/{repo}/resolve/{revision}/{path}
//	    the file itself, usually a redirect to a CDN; X-Repo-Commit names the
//	    commit served
//
// Downloads go to a partial file beside the target, resume with an HTTP Range
// request after a dropped connection (within one pull and across pulls), are
// verified against the sha256 the hub reports for LFS files (the git blob id
// for small files), and are renamed into place only once verified. The token
// is sent only to the endpoint's host, never to the CDN a download is
// redirected to.
//
// The cache holds one directory per repository, <cache>/<owner>/<name>/, with
// the repository's files at their paths and a small manifest
// (.bitnet-pull.json) recording what was downloaded and verified. It holds
// one revision of a repository at a time: pulling another revision replaces
// the files that differ.
package hub

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the branch downloaded when none is given.
const DefaultRevision = "main"

// Options configure the hub client and the cache. The zero value works: every
// field has a documented default.
type Options struct {
	// Endpoint is the hub's base URL. Default DefaultEndpoint.
	Endpoint string
	// Token is a Hugging Face access token, sent as "Authorization: Bearer"
	// to the endpoint's host only. Needed for gated and private models.
	// Default none.
	Token string
	// CacheDir is the model cache. Default DefaultCacheDir().
	CacheDir string
	// Revision is the branch, tag or commit to download. Default "main".
	Revision string
	// Client makes the HTTP requests; its Transport is wrapped to add the
	// token. Default: a client with connection and response-header timeouts
	// and no overall timeout (downloads take as long as they take).
	Client *http.Client
	// Progress, when not nil, receives a one-line progress bar per file,
	// redrawn with carriage returns. Give it a terminal only. Default nil.
	Progress io.Writer
	// Log, when not nil, receives one line per file downloaded or found up
	// to date, and warnings. Default nil.
	Log io.Writer
	// Attempts is how many times a download is tried when the network fails
	// or the server answers 5xx/429; each retry resumes where the last one
	// stopped. Default 5.
	Attempts int
	// RetryDelay is the wait before the first retry; it doubles after each,
	// up to 30s. Default 1s.
	RetryDelay time.Duration
	// StallTimeout aborts (and then retries) a download that receives no
	// bytes for this long. Default 60s.
	StallTimeout time.Duration
}

// EnvOptions returns Options with Endpoint and Token taken from the
// HF_ENDPOINT and HF_TOKEN environment variables, the two variables the
// Hugging Face tools honour; everything else is left at its default.
func EnvOptions() Options {
	return Options{Endpoint: os.Getenv("HF_ENDPOINT"), Token: os.Getenv("HF_TOKEN")}
}

// DefaultCacheDir returns the default model cache, <user cache dir>/bitnet/models
// (for example ~/.cache/bitnet/models on Linux).
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the model cache: %w", err)
	}
	return filepath.Join(base, "bitnet", "models"), nil
}

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() (Options, error) {
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.Revision == "" {
		o.Revision = DefaultRevision
	}
	if o.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = dir
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 60 * time.Second
	}
	return o, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// Errors wrapped by the errors this package returns, for errors.Is.
var (
	// ErrNotFound: the repository, revision or file does not exist (or, for
	// a 401 without a token, may exist but is private or gated).
	ErrNotFound = errors.New("not found")
	// ErrAccess: the hub refused access (401 or 403): a gated or private
	// model, or a token without access.
	ErrAccess = errors.New("access denied")
	// ErrChecksum: a downloaded file does not match the size or hash the hub
	// reported.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotCached: Resolve found no downloaded model for the name.
	ErrNotCached = errors.New("model not downloaded")
)
