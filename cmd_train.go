package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/bitnet-go/bitnet/bitnet/lm"
	"github.com/bitnet-go/bitnet/kernels"
)

// runTrain implements `bitnet train`: train a small BitNet b1.58 model on
// text files and export it as GGUF.
func runTrain(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("train", io)
	var (
		j                      lm.Job
		c                      = &j.Config
		o                      = &j.Options
		r                      = &j.Run
		valid, act             string
		weights, embeddings    string
		hyperFlagsGiven        []string
		defaults               = lm.DefaultOptions(1000)
		modelFlags, hyperFlags = map[string]bool{}, map[string]bool{}
	)
	fs.StringVar(&j.Output, "o", "", "write the trained model to this GGUF file")
	fs.StringVar(&valid, "valid", "", "held-out text file(s), comma-separated, for validation loss and perplexity")
	fs.IntVar(&j.VocabSize, "vocab", 2048, "size of the byte-level BPE vocabulary to train")
	fs.StringVar(&j.Tokenizer, "tokenizer", "", "use this tokenizer (GGUF, tokenizer.json or tokenizer.model) instead of training one")
	fs.StringVar(&j.EOS, "eos", lm.DefaultEOS, "end-of-text token of a trained vocabulary (matched in the text as one id)")

	fs.IntVar(&c.Dim, "dim", 256, "model width")
	fs.IntVar(&c.Layers, "layers", 6, "transformer blocks")
	fs.IntVar(&c.Heads, "heads", 4, "attention heads")
	fs.IntVar(&c.KVHeads, "kv-heads", 2, "key/value heads (grouped-query attention)")
	fs.IntVar(&c.FFN, "ffn", 768, "feed-forward width")
	fs.IntVar(&c.Context, "ctx", 256, "context length (training sequence length)")
	fs.StringVar(&act, "act", "relu2", "feed-forward activation: relu2 (arch bitnet-b1.58) or silu (arch bitnet)")
	fs.Float64Var(&c.RopeTheta, "rope-theta", lm.DefaultRopeTheta, "RoPE base")
	fs.BoolVar(&c.Float, "float", false, "train unquantised float projections (the full-precision baseline)")

	fs.IntVar(&o.Steps, "steps", defaults.Steps, "optimizer steps")
	fs.IntVar(&o.Batch, "batch", 8, "sequences per micro-batch")
	fs.IntVar(&o.Accum, "accum", 1, "micro-batches per optimizer step (gradient accumulation)")
	fs.Float64Var(&o.LR, "lr", 0, "peak learning rate (default 2e-3 ternary, 1e-3 float)")
	fs.Float64Var(&o.MinLR, "min-lr", 0, "learning rate at the end of the cosine decay (default lr/10)")
	fs.IntVar(&o.Warmup, "warmup", 0, "linear warmup steps (default steps/20)")
	fs.Float64Var(&o.WeightDecay, "wd", defaults.WeightDecay, "AdamW weight decay of matrices")
	fs.Float64Var(&o.ClipNorm, "clip", defaults.ClipNorm, "clip the global gradient norm to this (0: off)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed of the initial weights and the training windows")
	fs.IntVar(&o.EvalChunks, "eval-chunks", defaults.EvalChunks, "held-out chunks per validation (0: all)")

	fs.IntVar(&r.Threads, "t", 0, "threads (default: one per CPU)")
	fs.IntVar(&r.LogEvery, "log-every", 10, "steps between progress lines")
	fs.IntVar(&r.EvalEvery, "eval-every", 100, "steps between validations (0: only at the end)")
	fs.StringVar(&r.Checkpoint, "checkpoint", "", "write checkpoints to this file (atomically)")
	fs.IntVar(&r.SaveEvery, "save-every", 100, "steps between checkpoints (0: only at the end and on interrupt)")
	fs.StringVar(&j.Resume, "resume", "", "continue the run saved in this checkpoint (same data, bit for bit)")

	fs.StringVar(&weights, "weights", "", "projection encoding: i2_s (default), tq2_0 or tq1_0; f32 (default) or f16 with --float")
	fs.StringVar(&embeddings, "embeddings", "f16", "token embedding encoding: f16 or f32")
	fs.StringVar(&j.Export.Name, "name", "", "general.name of the exported model")
	fs.Usage = func() {
		fmt.Fprint(io.err, `Usage: bitnet train -o MODEL.gguf [flags] TEXT...
       bitnet train --resume CHECKPOINT -o MODEL.gguf [run flags]

Trains a LLaMA-style BitNet b1.58 model (ternary BitLinear projections on
float latent weights, float tied embeddings and norms, BitNet sub-norms) on
the text files, from a byte-level BPE vocabulary trained on them, with AdamW,
warmup and cosine decay, and exports it as GGUF for the engine. Progress
(step, loss, tokens/s, ETA) and validation loss and perplexity go to stderr.
Each training window starts with BOS, as each chunk of 'bitnet perplexity'
does; control tokens written in the text (the --eos separator) are read as
their ids. --resume continues a checkpoint with its own hyperparameters;
only the run flags (-t, --log-every, --eval-every, --checkpoint,
--save-every, -o and the export flags) may be given with it.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, n := range []string{"valid", "vocab", "tokenizer", "eos", "dim", "layers", "heads", "kv-heads", "ffn", "ctx", "act", "rope-theta", "float"} {
		modelFlags[n] = true
	}
	for _, n := range []string{"steps", "batch", "accum", "lr", "min-lr", "warmup", "wd", "clip", "seed", "eval-chunks"} {
		hyperFlags[n] = true
	}
	fs.Visit(func(f *flag.Flag) {
		if modelFlags[f.Name] || hyperFlags[f.Name] {
			hyperFlagsGiven = append(hyperFlagsGiven, "--"+f.Name)
		}
	})
	if j.Resume != "" {
		if len(hyperFlagsGiven) > 0 || fs.NArg() > 0 {
			return usagef("--resume keeps the checkpoint's data, model and hyperparameters; drop %s", strings.Join(append(hyperFlagsGiven, fs.Args()...), " "))
		}
	} else {
		if fs.NArg() == 0 {
			return usagef("train needs training text files")
		}
		o.TrainFiles = fs.Args()
		if valid != "" {
			o.ValidFiles = strings.Split(valid, ",")
		}
		var err error
		if c.Activation, err = lm.ParseActivation(act); err != nil {
			return usageError{err}
		}
	}
	if j.Output == "" && r.Checkpoint == "" {
		return usagef("train needs -o MODEL.gguf or --checkpoint FILE to keep its result")
	}
	var err error
	if j.Export.Weights, err = parseTensorType(weights, "", "i2_s", "tq2_0", "tq1_0", "f32", "f16"); err != nil {
		return usagef("--weights: %v", err)
	}
	if j.Export.Embeddings, err = parseTensorType(embeddings, "f16", "f16", "f32"); err != nil {
		return usagef("--embeddings: %v", err)
	}
	// F32 is the zero Type, which means "the default" (I2_S for a ternary
	// model), so an explicit f32 is checked here.
	if strings.EqualFold(weights, "f32") && !c.Float && j.Resume == "" {
		return usagef("--weights f32 is for --float models; a ternary model's projections are written as I2_S, TQ2_0 or TQ1_0")
	}
	// Whatever can be checked without the data is checked before training
	// starts, not after it ends.
	if err := j.Check(); err != nil {
		return usageError{err}
	}
	j.Run.Log = io.err
	j.Command = "bitnet train " + strings.Join(args, " ")
	_, err = j.Execute(ctx)
	return err
}

// parseTensorType reads a tensor type name among allowed ones; "" gives
// def ("" for the zero Type, a default chosen later).
func parseTensorType(s, def string, allowed ...string) (kernels.Type, error) {
	if s == "" {
		s = def
	}
	if s == "" {
		return 0, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			for _, t := range kernels.SupportedTypes() {
				if strings.EqualFold(t.String(), a) {
					return t, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("unknown type %q (want one of %s)", s, strings.Join(allowed, ", "))
}
