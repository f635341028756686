package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// manifestName is the file in each repository directory that records what
// was pulled and verified.
const manifestName = ".bitnet-pull.json"

// manifest records a cached repository.
type manifest struct {
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	// Commit is the commit the hub last served (X-Repo-Commit), if it said.
	Commit string `json:"commit,omitempty"`
	// Primary is the file -m loads for the bare repository name, or "" when
	// it is the directory (a Hugging Face model).
	Primary string         `json:"primary,omitempty"`
	Files   []manifestFile `json:"files"`
}

// manifestFile is one verified file.
type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	GitOID string `json:"git_oid,omitempty"`
}

// repoDir is the cache directory of repo (which must be a valid id).
func repoDir(cacheDir, repo string) string {
	owner, name, _ := strings.Cut(repo, "/")
	return filepath.Join(cacheDir, owner, name)
}

// findRepoDir returns the directory holding repo in the cache, matching the
// id without regard to case as the hub does.
func findRepoDir(cacheDir, repo string) (string, bool) {
	dir := repoDir(cacheDir, repo)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, true
	}
	owner, name, _ := strings.Cut(repo, "/")
	owners, _ := os.ReadDir(cacheDir)
	for _, o := range owners {
		if !o.IsDir() || !strings.EqualFold(o.Name(), owner) {
			continue
		}
		names, _ := os.ReadDir(filepath.Join(cacheDir, o.Name()))
		for _, n := range names {
			if n.IsDir() && strings.EqualFold(n.Name(), name) {
				return filepath.Join(cacheDir, o.Name(), n.Name()), true
			}
		}
	}
	return "", false
}

// readManifest loads the manifest of a repository directory. A missing or
// unreadable manifest yields an empty one: files are then re-verified.
func readManifest(dir string) *manifest {
	var m manifest
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return &manifest{}
	}
	// Keep only entries that are safe to join to dir.
	files := m.Files[:0]
	for _, f := range m.Files {
		if validRepoPath(f.Path) == nil {
			files = append(files, f)
		}
	}
	m.Files = files
	if m.Primary != "" && validRepoPath(m.Primary) != nil {
		m.Primary = ""
	}
	return &m
}

// write saves the manifest atomically.
func (m *manifest) write(dir string) error {
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// lookup returns the record of path.
func (m *manifest) lookup(path string) (manifestFile, bool) {
	for _, f := range m.Files {
		if f.Path == path {
			return f, true
		}
	}
	return manifestFile{}, false
}

// record notes that f was verified in place.
func (m *manifest) record(f RemoteFile) {
	rec := manifestFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256, GitOID: f.GitOID}
	for i := range m.Files {
		if m.Files[i].Path == f.Path {
			m.Files[i] = rec
			return
		}
	}
	m.Files = append(m.Files, rec)
}

// matches reports whether a recorded file is the listed one.
func (r manifestFile) matches(f RemoteFile) bool {
	return r.Size == f.Size && r.SHA256 == f.SHA256 && r.GitOID == f.GitOID
}

// CachedModel describes one repository in the cache.
type CachedModel struct {
	Repo string
	Dir  string
	// Path is what Resolve returns for the repository id, or "" when the
	// cache holds no single model file or model directory for it.
	Path string
	// Size is the total size of the downloaded files; Partial that of
	// unfinished downloads.
	Size, Partial int64
	// Files are the downloaded files, relative to Dir, '/'-separated.
	Files []string
	// ShortNames are the short names that refer to this repository.
	ShortNames []string
	// Commit is the commit last downloaded from, when the hub said.
	Commit string
}

// List returns the repositories in the cache, sorted by id. A cache that
// does not exist yet is empty.
func List(cacheDir string) ([]CachedModel, error) {
	if cacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cacheDir = d
	}
	owners, err := os.ReadDir(cacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", cacheDir, err)
	}
	var out []CachedModel
	for _, o := range owners {
		if !o.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(cacheDir, o.Name()))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", cacheDir, err)
		}
		for _, n := range names {
			repo := o.Name() + "/" + n.Name()
			if !n.IsDir() || ValidRepoID(repo) != nil {
				continue
			}
			cm, err := describe(filepath.Join(cacheDir, o.Name(), n.Name()), repo)
			if err != nil {
				return nil, err
			}
			out = append(out, cm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Repo) < strings.ToLower(out[j].Repo) })
	return out, nil
}

// describe summarises one repository directory.
func describe(dir, repo string) (CachedModel, error) {
	m := readManifest(dir)
	if m.Repo != "" && strings.EqualFold(m.Repo, repo) {
		repo = m.Repo
	}
	cm := CachedModel{Repo: repo, Dir: dir, Commit: m.Commit, ShortNames: shortNamesFor(repo)}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == manifestName || d.Name() == manifestName+".tmp" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if strings.HasSuffix(d.Name(), partialSuffix) {
			cm.Partial += info.Size()
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		cm.Files = append(cm.Files, filepath.ToSlash(rel))
		cm.Size += info.Size()
		return nil
	})
	if err != nil {
		return cm, fmt.Errorf("list %s: %w", dir, err)
	}
	cm.Path, _ = modelPath(dir, m)
	return cm, nil
}

// modelPath picks what -m should load from a cached repository: the
// recorded primary file, the directory of a Hugging Face model (it has a
// config.json), or the only GGUF file. It explains when there is no single
// answer.
func modelPath(dir string, m *manifest) (string, error) {
	if m.Primary != "" && fileExists(filepath.Join(dir, filepath.FromSlash(m.Primary))) {
		return filepath.Join(dir, filepath.FromSlash(m.Primary)), nil
	}
	if fileExists(filepath.Join(dir, "config.json")) {
		return dir, nil
	}
	ggufs, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	switch len(ggufs) {
	case 1:
		return ggufs[0], nil
	case 0:
		return "", fmt.Errorf("%s holds no .gguf file and no config.json", dir)
	}
	for i := range ggufs {
		ggufs[i] = filepath.Base(ggufs[i])
	}
	return "", fmt.Errorf("%s holds several GGUF files (%s); name one as REPO:FILE", dir, strings.Join(ggufs, ", "))
}

// Remove deletes a cached repository, named by short name or repository id,
// and returns what it removed.
func Remove(cacheDir, name string) (CachedModel, error) {
	if cacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return CachedModel{}, err
		}
		cacheDir = d
	}
	repo := name
	if sn, ok := LookupShortName(name); ok {
		repo = sn.Repo
	} else if err := ValidRepoID(name); err != nil {
		return CachedModel{}, fmt.Errorf("remove %q: not a short name or repository id: %w", name, err)
	}
	dir, ok := findRepoDir(cacheDir, repo)
	if !ok {
		return CachedModel{}, fmt.Errorf("remove %s: %w (not in %s)", repo, ErrNotCached, cacheDir)
	}
	cm, err := describe(dir, repo)
	if err != nil {
		return cm, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return cm, fmt.Errorf("remove %s: %w", repo, err)
	}
	os.Remove(filepath.Dir(dir)) // the owner directory, if now empty
	return cm, nil
}
