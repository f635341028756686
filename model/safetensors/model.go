package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SingleFileName is the weights file of an unsharded Hugging Face model.
const SingleFileName = "model.safetensors"

// IndexFileName is the index of a sharded Hugging Face model: it maps every
// tensor name to the shard file that holds it.
const IndexFileName = "model.safetensors.index.json"

// maxIndexSize bounds the index file read into memory. Real indexes of models
// with thousands of tensors are well under a megabyte.
const maxIndexSize = 64 << 20

// Model is the tensors of one model, possibly spread over several shard files,
// seen as a single namespace.
type Model struct {
	// Shards are the open files, in the order of their names.
	Shards []*File
	// IndexPath is the index file the model was opened from, or "" for a
	// single file.
	IndexPath string

	tensors map[string]*Tensor
	names   []string
}

// Tensor returns the tensor called name, from whichever shard holds it.
func (m *Model) Tensor(name string) (*Tensor, bool) {
	t, ok := m.tensors[name]
	return t, ok
}

// Names returns the names of all tensors, sorted.
func (m *Model) Names() []string { return m.names }

// Metadata returns the __metadata__ strings of the shards merged; where two
// shards disagree, the first shard wins.
func (m *Model) Metadata() map[string]string {
	out := map[string]string{}
	for i := len(m.Shards) - 1; i >= 0; i-- {
		for k, v := range m.Shards[i].Metadata {
			out[k] = v
		}
	}
	return out
}

// Close releases every shard.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.Shards {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// OpenModel opens the weights at path, which may be a model directory (see
// OpenDir), an index file (model.safetensors.index.json) or a single
// .safetensors file.
func OpenModel(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	switch {
	case st.IsDir():
		return OpenDir(path)
	case strings.HasSuffix(path, ".json"):
		return openIndex(path)
	}
	return openFiles([]string{path})
}

// OpenDir opens the weights of a Hugging Face model directory: the shards
// listed by model.safetensors.index.json when it exists, otherwise
// model.safetensors, otherwise every *.safetensors file in the directory.
func OpenDir(dir string) (*Model, error) {
	index := filepath.Join(dir, IndexFileName)
	if _, err := os.Stat(index); err == nil {
		return openIndex(index)
	}
	single := filepath.Join(dir, SingleFileName)
	if _, err := os.Stat(single); err == nil {
		return openFiles([]string{single})
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("open model %s: no %s, %s or other .safetensors file", dir, IndexFileName, SingleFileName)
	}
	sort.Strings(files)
	return openFiles(files)
}

// indexFile is the JSON of model.safetensors.index.json. Its "metadata"
// (usually just total_size) is not needed to read the tensors.
type indexFile struct {
	WeightMap map[string]string `json:"weight_map"`
}

// ReadIndex reads a model.safetensors.index.json and returns its weight map,
// tensor name to shard file name. Shard names are checked to be plain file
// names (no directories), so joining them to the index's directory stays
// inside it.
func ReadIndex(path string) (map[string]string, error) {
	m, err := readIndex(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

func readIndex(path string) (map[string]string, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	b, err := io.ReadAll(io.LimitReader(fd, maxIndexSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIndexSize {
		return nil, fmt.Errorf("%w: index is larger than %d bytes", ErrFormat, maxIndexSize)
	}
	var idx indexFile
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrFormat, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: index has no weight_map entries", ErrFormat)
	}
	for name, shard := range idx.WeightMap {
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) || filepath.Base(shard) != shard {
			return nil, fmt.Errorf("%w: index maps tensor %q to %q, which is not a file name in the model directory", ErrFormat, name, shard)
		}
	}
	return idx.WeightMap, nil
}

func openIndex(path string) (*Model, error) {
	weightMap, err := ReadIndex(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	seen := map[string]bool{}
	var files []string
	for _, shard := range weightMap {
		if !seen[shard] {
			seen[shard] = true
			files = append(files, filepath.Join(dir, shard))
		}
	}
	sort.Strings(files)
	m, err := openFiles(files)
	if err != nil {
		return nil, err
	}
	m.IndexPath = path
	for name, shard := range weightMap {
		t, ok := m.tensors[name]
		want := filepath.Join(dir, shard)
		if !ok {
			m.Close()
			return nil, fmt.Errorf("read %s: %w: tensor %q is listed in %s but that file does not hold it", path, ErrFormat, name, want)
		}
		if t.Source != want {
			m.Close()
			return nil, fmt.Errorf("read %s: %w: tensor %q is listed in %s but found in %s", path, ErrFormat, name, want, t.Source)
		}
	}
	return m, nil
}

// openFiles opens every file and joins their tensors; a name found in two
// files is an error.
func openFiles(paths []string) (*Model, error) {
	m := &Model{tensors: map[string]*Tensor{}}
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Shards = append(m.Shards, f)
		for i := range f.Tensors {
			t := &f.Tensors[i]
			if prev, dup := m.tensors[t.Name]; dup {
				m.Close()
				return nil, fmt.Errorf("open model: %w: tensor %q is in both %s and %s", ErrFormat, t.Name, prev.Source, t.Source)
			}
			m.tensors[t.Name] = t
			m.names = append(m.names, t.Name)
		}
	}
	sort.Strings(m.names)
	return m, nil
}
