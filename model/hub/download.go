package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// partialSuffix ends the name of an unfinished download.
const partialSuffix = ".partial"

// maxRetryDelay caps the doubling wait between download attempts.
const maxRetryDelay = 30 * time.Second

var (
	// errStalled: no bytes arrived for StallTimeout.
	errStalled = errors.New("download stalled")
	// errRestart: the partial file cannot be resumed and was discarded.
	errRestart = errors.New("the server could not resume the download; starting over")
)

// partialPath is where the download of f to dest is kept until verified. Its
// name carries the expected content's hash, so a partial file left by an
// older version of the file is never resumed as if it were this one.
func partialPath(dest string, f RemoteFile) string {
	id := f.SHA256
	if id == "" {
		id = f.GitOID
	}
	if len(id) >= 12 {
		return dest + "." + id[:12] + partialSuffix
	}
	return dest + partialSuffix
}

// download fetches f from repo into dest: into the partial file first,
// resuming it if one is there, retrying failed attempts, then verifying it
// and renaming it into place. It returns the commit the hub served, if it
// said.
func (c *client) download(ctx context.Context, repo string, f RemoteFile, dest string) (string, error) {
	partial := partialPath(dest, f)
	bar := newProgress(c.opts.Progress, f.Path, f.Size)
	delay := c.opts.RetryDelay
	var commit string
	for attempt := 1; ; attempt++ {
		var err error
		commit, err = c.fetch(ctx, repo, f, partial, bar)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			bar.abort()
			return "", interrupted(f, partial, ctx.Err())
		}
		if !isRetryable(err) || attempt >= c.opts.Attempts {
			bar.abort()
			if attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts; run pull again to resume)", err, attempt)
			}
			return "", fmt.Errorf("download %s: %w", f.Path, err)
		}
		bar.abort()
		c.opts.logf("%s: %v; retrying in %s (attempt %d of %d)", f.Path, err, delay, attempt+1, c.opts.Attempts)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return "", interrupted(f, partial, ctx.Err())
		}
		delay = min(2*delay, maxRetryDelay)
	}
	bar.finish()
	if err := verifyFile(partial, f); err != nil {
		os.Remove(partial)
		return "", fmt.Errorf("download %s: %w; the download was discarded, pull again to retry", f.Path, err)
	}
	if err := os.Rename(partial, dest); err != nil {
		return "", fmt.Errorf("download %s: %w", f.Path, err)
	}
	return commit, nil
}

// interrupted explains a cancelled download, which keeps its partial file.
func interrupted(f RemoteFile, partial string, err error) error {
	var have int64
	if st, statErr := os.Stat(partial); statErr == nil {
		have = st.Size()
	}
	return fmt.Errorf("download %s interrupted with %s of %s kept; pull again to resume: %w", f.Path, formatSize(have), formatSize(f.Size), err)
}

// fetch makes one attempt to complete the partial file.
func (c *client) fetch(ctx context.Context, repo string, f RemoteFile, partial string, bar *progress) (string, error) {
	var have int64
	if st, err := os.Stat(partial); err == nil {
		have = st.Size()
	}
	if have > f.Size { // cannot be a prefix of this file
		os.Remove(partial)
		have = 0
	}
	if have == f.Size && (have > 0 || fileExists(partial)) {
		bar.set(have)
		return "", nil
	}
	if f.Size == 0 {
		return "", os.WriteFile(partial, nil, 0o644)
	}

	// A cancel cause distinguishes a stall from the caller cancelling.
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, c.resolveURL(repo, f.Path), nil)
	if err != nil {
		return "", err
	}
	// Identity encoding: byte ranges and hashes refer to the file itself.
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", networkError(ctx, c.opts.Endpoint, err)
	}
	defer resp.Body.Close()
	commit := repoCommit(resp)

	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have || (total >= 0 && total != f.Size) {
			os.Remove(partial)
			return "", errRestart
		}
	case http.StatusOK: // no Range sent, or the server ignored it
		have = 0
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	case http.StatusRequestedRangeNotSatisfiable:
		os.Remove(partial)
		return "", errRestart
	default:
		return "", c.statusError(resp, repo, f.Path)
	}
	if resp.ContentLength >= 0 && have+resp.ContentLength != f.Size {
		return "", fmt.Errorf("%w: the server sends %d bytes from offset %d, but the listing says the file has %d", ErrChecksum, resp.ContentLength, have, f.Size)
	}

	out, err := os.OpenFile(partial, flags, 0o644)
	if err != nil {
		return "", err
	}
	bar.set(have)
	stall := time.AfterFunc(c.opts.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	body := &watchedReader{r: resp.Body, stall: stall, timeout: c.opts.StallTimeout, bar: bar}
	// One byte more than needed, to notice a server that sends too much.
	n, copyErr := io.Copy(out, io.LimitReader(body, f.Size-have+1))
	if copyErr == nil {
		copyErr = out.Sync()
	}
	if err := out.Close(); copyErr == nil {
		copyErr = err
	}
	var re readError
	switch {
	case errors.As(copyErr, &re):
		if errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil {
			return "", fmt.Errorf("%w: no data for %s", errStalled, c.opts.StallTimeout)
		}
		return "", networkError(ctx, c.opts.Endpoint, re.err)
	case copyErr != nil:
		return "", fmt.Errorf("write %s: %w", partial, copyErr)
	case have+n > f.Size:
		os.Remove(partial)
		return "", fmt.Errorf("%w: the server sent more than the %d bytes listed", ErrChecksum, f.Size)
	case have+n < f.Size:
		return "", networkError(ctx, c.opts.Endpoint, io.ErrUnexpectedEOF)
	}
	return commit, nil
}

// repoCommit returns the X-Repo-Commit header of the response or of the
// redirect that led to it (the hub sets it; a CDN does not).
func repoCommit(resp *http.Response) string {
	for r := resp; r != nil; {
		if c := r.Header.Get("X-Repo-Commit"); c != "" {
			return c
		}
		if r.Request == nil {
			break
		}
		r = r.Request.Response
	}
	return ""
}

// parseContentRange parses "bytes START-END/TOTAL"; total is -1 for "*".
func parseContentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if tot == "*" {
		return start, -1, true
	}
	total, err = strconv.ParseInt(tot, 10, 64)
	return start, total, err == nil
}

// readError marks an error from the network side of a copy, as opposed to
// one writing the file.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

// watchedReader feeds the progress bar and re-arms the stall timer on every
// read that brings bytes.
type watchedReader struct {
	r       io.Reader
	stall   *time.Timer
	timeout time.Duration
	bar     *progress
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.stall.Reset(w.timeout)
		w.bar.add(int64(n))
	}
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

// verifyFile checks the file at path against the size and hash the hub
// listed: the sha256 for LFS files, else the git blob id.
func verifyFile(path string, f RemoteFile) error {
	fd, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return err
	}
	if st.Size() != f.Size {
		return fmt.Errorf("%w: %s has %d bytes, the hub lists %d", ErrChecksum, f.Path, st.Size(), f.Size)
	}
	var h hash.Hash
	var want, kind string
	switch {
	case f.SHA256 != "":
		h, want, kind = sha256.New(), f.SHA256, "sha256"
	case len(f.GitOID) == 40:
		h, want, kind = sha1.New(), f.GitOID, "git blob id"
		fmt.Fprintf(h, "blob %d\x00", f.Size)
	default:
		return nil // the hub gave no hash: the size is all we can check
	}
	if _, err := io.Copy(h, fd); err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s of %s is %s, the hub lists %s", ErrChecksum, kind, f.Path, got, want)
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
