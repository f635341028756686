// Package loader opens the model a user names after -m: a GGUF file, a
// Hugging Face model directory, or the short name or repository id of a
// model downloaded with `bitnet pull`, and the tokenizer that goes with it.
package loader

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/hf"
	"github.com/bitnet-go/bitnet/model/hub"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// Format is the kind of model a path held.
type Format string

// The formats Load reads.
const (
	GGUF Format = "gguf" // a GGUF file
	HF   Format = "hf"   // a Hugging Face directory: config.json, safetensors, tokenizer
)

// Loaded is an opened model and its tokenizer.
type Loaded struct {
	Model *model.Model
	// Tokenizer is nil when the model has none (a GGUF without tokenizer
	// metadata, a directory without tokenizer files); TokenizerErr then
	// says why. Commands that only need token ids work without it.
	Tokenizer    *tokenizer.Tokenizer
	TokenizerErr error
	// Path is the file or directory the argument resolved to.
	Path   string
	Format Format

	close func() error
}

// Close releases the model and its files.
func (l *Loaded) Close() error { return l.close() }

// Load resolves arg with hub.Resolve (an existing file or directory, or a
// downloaded model's name in the default cache) and opens it: a directory
// (or its config.json or a .safetensors file in it) as a Hugging Face model,
// any other file as GGUF.
func Load(arg string, opts model.Options) (*Loaded, error) {
	path, dir, err := locate(arg)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return loadGGUF(path, opts)
	}
	return loadHF(dir, opts)
}

// LoadTokenizer opens only the tokenizer of the model arg names, resolved as
// Load resolves it: a Hugging Face directory's tokenizer files, or the
// tokenizer stored in a GGUF file (or any file tokenizer.Load reads). The
// weights are not read.
func LoadTokenizer(arg string) (*tokenizer.Tokenizer, error) {
	path, dir, err := locate(arg)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return tokenizer.Load(path)
	}
	return hf.LoadTokenizer(dir)
}

// locate resolves arg with hub.Resolve and says how to open it: dir is the
// Hugging Face model directory when arg names one (the directory, its
// config.json or a .safetensors file in it), "" for a single file at path.
func locate(arg string) (path, dir string, err error) {
	path, err = hub.Resolve(arg, "")
	if err != nil {
		return "", "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("load model: %w", err)
	}
	switch {
	case st.IsDir():
		dir = path
	case filepath.Base(path) == hf.ConfigFileName, strings.HasSuffix(path, ".safetensors"):
		dir = filepath.Dir(path)
	}
	if dir != "" && !hf.IsModelDir(dir) {
		return "", "", fmt.Errorf("load %s: a model directory needs a %s (Hugging Face layout); for GGUF give the file", dir, hf.ConfigFileName)
	}
	return path, dir, nil
}

func loadGGUF(path string, opts model.Options) (*Loaded, error) {
	m, err := model.Load(path, opts)
	if err != nil {
		return nil, withPath(path, err)
	}
	l := &Loaded{Model: m, Path: path, Format: GGUF, close: m.Close}
	if l.Tokenizer, err = tokenizer.FromGGUF(m.File); err != nil {
		l.TokenizerErr = fmt.Errorf("tokenizer of %s: %w", path, err)
	}
	return l, nil
}

func loadHF(dir string, opts model.Options) (*Loaded, error) {
	m, err := hf.Load(dir, opts, hf.Options{Threads: opts.Threads})
	if err != nil {
		return nil, withPath(dir, err)
	}
	l := &Loaded{Model: m.Model, Path: dir, Format: HF, close: m.Close}
	// The tokenizer's errors name its file.
	l.Tokenizer, l.TokenizerErr = hf.LoadTokenizer(dir)
	return l, nil
}

// withPath makes sure a load error names the path it concerns.
func withPath(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("load %s: %w", path, err)
}
