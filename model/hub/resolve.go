package hub

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Resolve turns a -m argument into a local path. In order:
//
//   - an existing file or directory is returned as it is;
//   - a short name (bitnet-2b4t) or a repository id, optionally with
//     :FILE, resolves to its downloaded copy in cacheDir (DefaultCacheDir()
//     when empty): the model file of a GGUF repository, the directory of a
//     Hugging Face model, or the named file;
//   - anything else, or a model not downloaded yet, is an error that says how
//     to pull it (wrapping ErrNotCached when the name was understood).
func Resolve(arg, cacheDir string) (string, error) {
	if arg == "" {
		return "", fmt.Errorf("no model given")
	}
	if _, err := os.Stat(arg); err == nil {
		return arg, nil
	}
	ref, err := ParseRef(arg)
	if err != nil {
		return "", fmt.Errorf("model %q: no such file or directory, and %w", arg, err)
	}
	if cacheDir == "" {
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	dir, ok := findRepoDir(cacheDir, ref.Repo)
	if !ok {
		return "", notCached(arg, ref, cacheDir)
	}
	if ref.File != "" {
		p := filepath.Join(dir, filepath.FromSlash(ref.File))
		if !fileExists(p) {
			return "", notCached(arg, ref, cacheDir)
		}
		return p, nil
	}
	p, err := modelPath(dir, readManifest(dir))
	if err != nil {
		return "", fmt.Errorf("model %q: %w", arg, err)
	}
	return p, nil
}

func notCached(arg string, ref Ref, cacheDir string) error {
	what := ref.String()
	if !strings.EqualFold(arg, what) {
		what = fmt.Sprintf("%s (%s)", arg, what)
	}
	return fmt.Errorf("model %s: %w in %s; download it with: bitnet pull %s", what, ErrNotCached, cacheDir, arg)
}
