package hub

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bitnet-go/bitnet/model/safetensors"
)

// hfSideFiles are the small files of a Hugging Face model directory that a
// loader may read besides the weights, fetched when the repository has them.
// Only config.json is required.
var hfSideFiles = []string{
	"config.json",
	"generation_config.json",
	"tokenizer.json",
	"tokenizer_config.json",
	"special_tokens_map.json",
	"tokenizer.model",
}

// pullPlan is what one pull fetches.
type pullPlan struct {
	// files are fetched in this order.
	files []RemoteFile
	// index, when set, is the sharded model's index (also in files): the
	// shards it names are fetched once it is on disk.
	index *RemoteFile
	// primary is the file -m loads, or "" for the repository directory.
	primary string
}

// planPull chooses the files to fetch for ref from the repository listing.
//
// REPO:FILE fetches that file. A bare REPO with GGUF files fetches the only
// one, or else the only I2_S one; with several candidates it asks for a
// choice. A bare REPO without GGUF files is a Hugging Face model: config.json,
// the tokenizer and generation files it has, and the weights (the shards the
// index names, or model.safetensors, or every top-level .safetensors file).
func planPull(ref Ref, files []RemoteFile) (pullPlan, error) {
	byPath := map[string]RemoteFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	if ref.File != "" {
		f, ok := byPath[ref.File]
		if !ok {
			return pullPlan{}, fmt.Errorf("%w: %s has no file %s; it has %s", ErrNotFound, ref.Repo, ref.File, describeFiles(files))
		}
		p := pullPlan{files: []RemoteFile{f}}
		if isGGUF(f.Path) {
			p.primary = f.Path
		}
		return p, nil
	}

	var ggufs []RemoteFile
	for _, f := range files {
		if isGGUF(f.Path) {
			ggufs = append(ggufs, f)
		}
	}
	if len(ggufs) > 0 {
		pick, err := pickGGUF(ref.Repo, ggufs)
		if err != nil {
			return pullPlan{}, err
		}
		return pullPlan{files: []RemoteFile{pick}, primary: pick.Path}, nil
	}

	var p pullPlan
	for _, name := range hfSideFiles {
		if f, ok := byPath[name]; ok {
			p.files = append(p.files, f)
		} else if name == "config.json" {
			return pullPlan{}, fmt.Errorf("%w: %s has neither a GGUF file nor a config.json; it has %s", ErrNotFound, ref.Repo, describeFiles(files))
		}
	}
	if f, ok := byPath[safetensors.IndexFileName]; ok {
		p.files = append(p.files, f)
		p.index = &f
		return p, nil
	}
	if f, ok := byPath[safetensors.SingleFileName]; ok {
		p.files = append(p.files, f)
		return p, nil
	}
	n := len(p.files)
	for _, f := range files {
		if !strings.Contains(f.Path, "/") && strings.HasSuffix(f.Path, ".safetensors") {
			p.files = append(p.files, f)
		}
	}
	if len(p.files) == n {
		return pullPlan{}, fmt.Errorf("%w: %s has a config.json but no .safetensors weights (other weight formats are not supported); it has %s", ErrNotFound, ref.Repo, describeFiles(files))
	}
	return p, nil
}

// shardsFromIndex returns the listed shard files named by a downloaded index.
func shardsFromIndex(repo, indexPath string, files []RemoteFile) ([]RemoteFile, error) {
	weightMap, err := safetensors.ReadIndex(indexPath)
	if err != nil {
		return nil, err
	}
	byPath := map[string]RemoteFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	seen := map[string]bool{}
	var shards []RemoteFile
	for _, shard := range weightMap {
		if seen[shard] {
			continue
		}
		seen[shard] = true
		f, ok := byPath[shard]
		if !ok {
			return nil, fmt.Errorf("%w: %s names shard %s, which %s does not have", ErrNotFound, safetensors.IndexFileName, shard, repo)
		}
		shards = append(shards, f)
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].Path < shards[j].Path })
	return shards, nil
}

// pickGGUF chooses among a repository's GGUF files.
func pickGGUF(repo string, ggufs []RemoteFile) (RemoteFile, error) {
	if len(ggufs) == 1 {
		return ggufs[0], nil
	}
	var i2s []RemoteFile
	for _, f := range ggufs {
		if strings.Contains(strings.ToLower(f.Path), "i2_s") {
			i2s = append(i2s, f)
		}
	}
	if len(i2s) == 1 {
		return i2s[0], nil
	}
	names := make([]string, len(ggufs))
	for i, f := range ggufs {
		names[i] = fmt.Sprintf("%s (%s)", f.Path, formatSize(f.Size))
	}
	return RemoteFile{}, fmt.Errorf("%s has %d GGUF files; choose one with %s:FILE from: %s", repo, len(ggufs), repo, strings.Join(names, ", "))
}

func isGGUF(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".gguf") }

// describeFiles lists a repository's files for an error message, shortened
// when there are many.
func describeFiles(files []RemoteFile) string {
	if len(files) == 0 {
		return "no files"
	}
	const most = 12
	names := make([]string, 0, most)
	for i, f := range files {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(files)-most))
			break
		}
		names = append(names, f.Path)
	}
	return strings.Join(names, ", ")
}
