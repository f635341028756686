package main

import (
	"context"
	"fmt"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/loader"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// runDefault implements `bitnet [flags]`: a one-shot completion of -p.
func runDefault(ctx context.Context, args []string, io stdio) error {
	fs := newFlags(programName, io)
	var (
		path, prompt string
		n, threads   int
		sampler      model.SamplerOptions
		showVersion  bool
	)
	fs.StringVar(&path, "m", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&path, "model", "", "model: GGUF file, Hugging Face directory or downloaded name")
	fs.StringVar(&prompt, "p", "", "prompt to complete")
	fs.StringVar(&prompt, "prompt", "", "prompt to complete")
	fs.IntVar(&n, "n", 128, "maximum tokens to generate")
	fs.IntVar(&n, "max-tokens", 128, "maximum tokens to generate")
	fs.IntVar(&threads, "t", 0, "threads (default: one per CPU)")
	fs.IntVar(&threads, "threads", 0, "threads (default: one per CPU)")
	fs.Func("temp", "sampling temperature, 0 = greedy (default 0.8)", floatFlag(&sampler.Temperature))
	fs.IntVar(&sampler.TopK, "top-k", 40, "keep the K most likely tokens (0 = all)")
	fs.Func("top-p", "keep the most likely tokens up to this probability mass (default 0.95)", floatFlag(&sampler.TopP))
	fs.Func("min-p", "drop tokens less likely than this fraction of the best (default 0.05)", floatFlag(&sampler.MinP))
	fs.Func("repeat-penalty", "penalty for repeating recent tokens, 1 = off (default 1)", floatFlag(&sampler.RepeatPenalty))
	fs.Uint64Var(&sampler.Seed, "seed", 0, "random seed")
	fs.BoolVar(&showVersion, "version", false, "print the version")
	fs.Usage = func() { printUsage(io.err) }
	sampler.Temperature, sampler.TopP, sampler.MinP, sampler.RepeatPenalty = 0.8, 0.95, 0.05, 1
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if showVersion {
		fmt.Fprintf(io.out, "%s %s\n", programName, version)
		return nil
	}
	if fs.NArg() > 0 {
		return usagef("unknown command %q", fs.Arg(0))
	}
	if path == "" || prompt == "" {
		return usagef("give a model with -m FILE and a prompt with -p TEXT")
	}
	l, err := loader.Load(path, model.Options{Threads: threads})
	if err != nil {
		return err
	}
	defer l.Close()
	m, tok := l.Model, l.Tokenizer
	if tok == nil {
		return l.TokenizerErr
	}
	ids := tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: tok.AddBOSByDefault()})
	dec := tok.NewStreamDecoder()
	_, err = m.NewSession().Generate(ctx, ids, model.GenerateOptions{
		MaxTokens:  n,
		Sampler:    sampler,
		StopTokens: tok.StopTokens(),
	}, func(id int) error {
		_, err := io.out.Write([]byte(dec.Add(id)))
		return err
	})
	fmt.Fprintln(io.out, dec.Flush())
	return err
}

// floatFlag parses a float32 flag value into p.
func floatFlag(p *float32) func(string) error {
	return func(s string) error {
		var v float64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*p = float32(v)
		return nil
	}
}
