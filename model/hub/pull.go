package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Pulled reports the outcome of a pull.
type Pulled struct {
	Ref Ref
	// Dir is the repository's cache directory.
	Dir string
	// Path is what to give -m: the model file of a GGUF pull, or Dir for a
	// Hugging Face model (or the single file of a REPO:FILE pull).
	Path string
	// Files are the local paths of the files of this pull, downloaded now or
	// found already verified.
	Files []string
	// Downloaded counts the files transferred by this pull (not found in
	// the cache).
	Downloaded int
}

// Pull downloads ref into the cache (see Options) and returns where it is.
// Files already downloaded and verified are not fetched again; unfinished
// downloads resume. Cancelling ctx stops the transfer and keeps what arrived
// for the next pull.
func Pull(ctx context.Context, ref Ref, opts Options) (*Pulled, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ValidRepoID(ref.Repo); err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	files, err := c.listFiles(ctx, ref.Repo)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	plan, err := planPull(ref, files)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	dir, ok := findRepoDir(opts.CacheDir, ref.Repo)
	if !ok {
		dir = repoDir(opts.CacheDir, ref.Repo)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	m := readManifest(dir)
	m.Repo, m.Revision = ref.Repo, opts.Revision
	if plan.primary != "" && (ref.File == "" || m.Primary == "") {
		m.Primary = plan.primary
	}

	p := &Pulled{Ref: ref, Dir: dir}
	queue := plan.files
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		local, fetched, err := c.fetchFile(ctx, ref.Repo, dir, m, f)
		if err != nil {
			return nil, fmt.Errorf("pull %s: %w", ref, err)
		}
		p.Files = append(p.Files, local)
		if fetched {
			p.Downloaded++
		}
		if plan.index != nil && f.Path == plan.index.Path {
			shards, err := shardsFromIndex(ref.Repo, local, files)
			if err != nil {
				return nil, fmt.Errorf("pull %s: %w", ref, err)
			}
			queue = append(queue, shards...)
		}
	}
	switch {
	case plan.primary != "":
		p.Path = filepath.Join(dir, filepath.FromSlash(plan.primary))
	case ref.File != "":
		p.Path = p.Files[0]
	default:
		p.Path = dir
		if !fileExists(filepath.Join(dir, "tokenizer.json")) && !fileExists(filepath.Join(dir, "tokenizer.model")) {
			opts.logf("warning: %s has no tokenizer.json or tokenizer.model; the model card may name the repository that has its tokenizer", ref.Repo)
		}
	}
	return p, nil
}

// fetchFile makes f present and verified in dir, downloading it unless the
// manifest (or, without a record, a hash check) shows the local copy is the
// listed one. It reports the local path and whether it downloaded.
func (c *client) fetchFile(ctx context.Context, repo, dir string, m *manifest, f RemoteFile) (string, bool, error) {
	local := filepath.Join(dir, filepath.FromSlash(f.Path))
	if st, err := os.Stat(local); err == nil && st.Mode().IsRegular() && st.Size() == f.Size {
		rec, ok := m.lookup(f.Path)
		if (ok && rec.matches(f)) || verifyFile(local, f) == nil {
			if !ok || !rec.matches(f) {
				m.record(f)
				if err := m.write(dir); err != nil {
					return "", false, err
				}
			}
			c.opts.logf("%s: up to date", f.Path)
			return local, false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return "", false, err
	}
	start := time.Now()
	commit, err := c.download(ctx, repo, f, local)
	if err != nil {
		return "", false, err
	}
	if commit != "" {
		m.Commit = commit
	}
	m.record(f)
	if err := m.write(dir); err != nil {
		return "", false, err
	}
	c.opts.logf("%s: downloaded %s in %s", f.Path, formatSize(f.Size), time.Since(start).Round(100*time.Millisecond))
	return local, true, nil
}
