package hub

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Ref names what to pull: a repository and optionally one file in it.
type Ref struct {
	Repo string // "owner/name"
	File string // a path in the repository, or "" for the files a model needs
}

// String returns the ref as written on the command line, REPO[:FILE].
func (r Ref) String() string {
	if r.File == "" {
		return r.Repo
	}
	return r.Repo + ":" + r.File
}

// ParseRef parses a short name (see ShortNames) or REPO[:FILE], where REPO is
// a Hugging Face repository id "owner/name".
func ParseRef(s string) (Ref, error) {
	if sn, ok := LookupShortName(s); ok {
		return Ref{Repo: sn.Repo, File: sn.File}, nil
	}
	repo, file, _ := strings.Cut(s, ":")
	if err := ValidRepoID(repo); err != nil {
		return Ref{}, fmt.Errorf("%q is neither a short name (%s) nor REPO[:FILE]: %w", s, strings.Join(shortNameList(), ", "), err)
	}
	if file != "" {
		if err := validRepoPath(file); err != nil {
			return Ref{}, err
		}
	}
	return Ref{Repo: repo, File: file}, nil
}

// ValidRepoID checks that id has the form of a Hugging Face repository id,
// "owner/name", with the characters the hub allows: letters, digits, '-', '_'
// and '.', no "--" or "..", and no '-' or '.' at either end of a part.
func ValidRepoID(id string) error {
	owner, name, ok := strings.Cut(id, "/")
	if !ok || strings.Contains(name, "/") {
		return fmt.Errorf("repository id %q must have the form owner/name", id)
	}
	for _, part := range []string{owner, name} {
		if len(part) == 0 || len(part) > 96 {
			return fmt.Errorf("repository id %q: each part must have 1 to 96 characters", id)
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Errorf("repository id %q: character %q is not allowed", id, c)
			}
		}
		if strings.Contains(part, "--") || strings.Contains(part, "..") ||
			strings.ContainsAny(part[:1], "-.") || strings.ContainsAny(part[len(part)-1:], "-.") {
			return fmt.Errorf("repository id %q: '-' and '.' may not repeat or start or end a part", id)
		}
	}
	return nil
}

// validRepoPath checks that a file path from the command line or from the
// hub's listing stays inside the repository directory once joined to it.
func validRepoPath(p string) error {
	if p == "" || strings.ContainsAny(p, "\\\x00") || !filepath.IsLocal(filepath.FromSlash(p)) || strings.HasSuffix(p, "/") {
		return fmt.Errorf("file path %q is not a plain path inside the repository", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("file path %q is not a plain path inside the repository", p)
		}
	}
	if filepath.Base(p) == manifestName || strings.HasSuffix(p, partialSuffix) {
		return fmt.Errorf("file path %q collides with the cache's own files", p)
	}
	return nil
}
