package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	goio "io"
	"math"
	"strconv"
	"strings"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/loader"
)

// runLogits implements `bitnet logits`: the ids run teacher-forced in one
// pass and the logits of every position are written as little-endian
// float32, shape [positions][vocab], the layout of the golden test data.
func runLogits(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("logits", io)
	var (
		path, tokens, out, mode string
		floatActs               bool
		threads, ctxSize        int
	)
	fs.StringVar(&path, "m", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&path, "model", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&tokens, "tokens", "", "comma-separated token ids")
	fs.StringVar(&out, "o", "", "output file")
	fs.BoolVar(&floatActs, "float-activations", false, "do not quantise activations (same as --activations float)")
	fs.StringVar(&mode, "activations", "int8", "ternary arithmetic: int8 (per token, default), float, or q8k (llama.cpp's blocks)")
	fs.IntVar(&threads, "t", 0, "threads (default: one per CPU)")
	fs.IntVar(&threads, "threads", 0, "threads (default: one per CPU)")
	fs.IntVar(&ctxSize, "c", 0, "context size (default: the number of tokens)")
	fs.Usage = func() {
		fmt.Fprint(io.err, "Usage: bitnet logits -m MODEL --tokens ID,ID,... -o OUT [--float-activations] [-t THREADS]\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if path == "" || tokens == "" || out == "" {
		return usagef("logits needs -m MODEL, --tokens and -o OUT")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	acts, err := parseActivationMode(mode)
	if err != nil {
		return usageError{err}
	}
	if floatActs {
		acts = model.ActFloat
	}
	ids, err := parseIDs(tokens)
	if err != nil {
		return usageError{err}
	}
	opts := model.Options{Threads: threads, Activations: acts, ContextLength: max(ctxSize, len(ids))}
	if err := opts.Validate(); err != nil {
		return usageError{err}
	}
	l, err := loader.Load(path, opts)
	if err != nil {
		return withContextHint(err, "-c")
	}
	defer l.Close()
	m := l.Model
	vocab := m.Config.VocabSize
	logits := make([]float32, len(ids)*vocab)
	if err := m.NewSession().Forward(ctx, ids, logits); err != nil {
		return err
	}
	return gguf.WriteFileAtomic(out, func(w goio.Writer) error {
		bw := bufio.NewWriter(w)
		var b [4]byte
		for _, v := range logits {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:])
		}
		return bw.Flush()
	})
}

func parseActivationMode(s string) (model.ActivationMode, error) {
	for _, m := range []model.ActivationMode{model.ActInt8, model.ActFloat, model.ActQ8K} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown activation arithmetic %q (want int8, float or q8k)", s)
}

// parseIDs reads comma- or space-separated token ids.
func parseIDs(s string) ([]int, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("no token ids in %q", s)
	}
	ids := make([]int, len(fields))
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("token id %q is not a non-negative integer", f)
		}
		ids[i] = v
	}
	return ids, nil
}
