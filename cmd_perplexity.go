package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/loader"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// defaultPerplexityContext is llama-perplexity's default chunk length.
const defaultPerplexityContext = 512

// runPerplexity implements `bitnet perplexity`: the perplexity of a model on
// a text file, measured as llama.cpp's llama-perplexity measures it.
func runPerplexity(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("perplexity", io)
	var (
		path, file, mode    string
		ctxSize, batch      int
		chunks, threads     int
		parseSpecial, quiet bool
		int8Head            bool
	)
	fs.StringVar(&path, "m", "", "model: GGUF file, Hugging Face directory or downloaded model name")
	fs.StringVar(&path, "model", "", "same as -m")
	fs.StringVar(&file, "f", "", "text file to score")
	fs.IntVar(&ctxSize, "ctx", 0, "chunk length in tokens (default 512, or the model's context length when smaller)")
	fs.IntVar(&ctxSize, "c", 0, "same as --ctx")
	fs.IntVar(&batch, "batch", 0, "tokens evaluated per pass over the weights (default 64)")
	fs.IntVar(&batch, "b", 0, "same as --batch")
	fs.IntVar(&chunks, "chunks", 0, "score only the first N chunks (default: all)")
	fs.IntVar(&threads, "t", 0, "threads (default: one per CPU, at most 1024)")
	fs.BoolVar(&int8Head, "int8-head", false, "re-encode a float lm head to int8 per row (model.Options.Int8Head)")
	fs.StringVar(&mode, "activations", "int8", "ternary arithmetic: int8 (per token, default), float, or q8k (llama.cpp's blocks)")
	fs.BoolVar(&parseSpecial, "parse-special", false, "read control tokens written in the text (such as <|endoftext|>) as their ids")
	fs.BoolVar(&quiet, "q", false, "print only the final estimate")
	fs.Usage = func() {
		fmt.Fprint(io.err, `Usage: bitnet perplexity -m MODEL -f TEXT [--ctx N] [--batch N] [--chunks N] [--int8-head]

Measures perplexity as llama.cpp's llama-perplexity does. The whole file is
tokenized (with BOS first when the vocabulary adds one; control-token text
stays text unless --parse-special) and cut into consecutive, non-overlapping
chunks of --ctx tokens; a shorter tail is dropped. Each chunk is evaluated
from an empty cache, with its first token replaced by BOS when the
vocabulary adds one, and only its second half is scored: the predictions
made at positions ctx/2 .. ctx-2 of the next token, so every scored token
sees at least ctx/2 tokens of context. PPL = exp(mean negative
log-likelihood of the scored tokens), with llama-perplexity's error
estimate. The running value after each chunk ([chunk]ppl) and the final
estimate go to stdout.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case path == "" || file == "":
		return usagef("perplexity needs -m MODEL and -f TEXT")
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case ctxSize < 0 || ctxSize == 1 || ctxSize == 2 || ctxSize == 3:
		return usagef("--ctx %d: chunks need at least 4 tokens", ctxSize)
	case batch < 0 || chunks < 0:
		return usagef("--batch and --chunks must not be negative")
	}
	acts, err := parseActivationMode(mode)
	if err != nil {
		return usageError{err}
	}
	cache := ctxSize
	if cache == 0 {
		cache = defaultPerplexityContext
	}
	opts := model.Options{Threads: threads, ContextLength: cache, BatchSize: batch, Activations: acts, Int8Head: int8Head}
	if err := opts.Validate(); err != nil {
		return usageError{err}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("perplexity: %w", err)
	}
	l, err := loader.Load(path, opts)
	if err != nil {
		return withContextHint(err, "--ctx")
	}
	defer l.Close()
	if l.Tokenizer == nil {
		return l.TokenizerErr
	}
	m, tok := l.Model, l.Tokenizer
	if ctxSize == 0 {
		ctxSize = min(defaultPerplexityContext, m.Config.ContextLength)
	}
	start := time.Now()
	ids := tok.Encode(string(text), tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault(), ParseSpecial: parseSpecial})
	bos := -1
	if tok.AddBOSByDefault() {
		bos = tok.BOS()
	}
	fmt.Fprintf(io.err, "%s: %d bytes -> %d tokens in %s; %d chunks of %d tokens, %d scored per chunk\n",
		file, len(text), len(ids), time.Since(start).Round(time.Millisecond), chunksOf(len(ids), ctxSize, chunks), ctxSize, ctxSize-1-ctxSize/2)
	if ctxSize > m.Config.ContextLength {
		fmt.Fprintf(io.err, "%s: warning: --ctx %d exceeds the model's training context of %d\n", programName, ctxSize, m.Config.ContextLength)
	}
	progress := func(r model.PerplexityResult) {
		if !quiet {
			fmt.Fprintf(io.out, "[%d]%.4f,", r.Chunks, r.PPL())
		}
	}
	start = time.Now()
	res, err := m.Perplexity(ctx, ids, model.PerplexityOptions{Context: ctxSize, Chunks: chunks, BOS: bos, Progress: progress})
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintln(io.out)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(io.err, "scored %d tokens in %s (%.1f tokens/s evaluated)\n", res.Tokens, elapsed.Round(time.Millisecond),
		float64(res.Chunks*(ctxSize-1))/elapsed.Seconds())
	fmt.Fprintf(io.out, "Final estimate: PPL = %.4f +/- %.5f\n", res.PPL(), res.PPLError())
	return nil
}

// chunksOf returns how many chunks of ctx tokens n tokens give, at most limit
// (0: no limit).
func chunksOf(n, ctx, limit int) int {
	c := n / ctx
	if limit > 0 {
		c = min(c, limit)
	}
	return c
}
