package lm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bitnet-go/bitnet/tokenizer"
)

// DefaultEOS is the end-of-text token of a trained vocabulary: the
// separator TinyStories and GPT-2 use between documents.
const DefaultEOS = "<|endoftext|>"

// Job is one `bitnet train` run from text files to an exported model: build
// or load a tokenizer, tokenize the corpora, train (or resume) and export.
type Job struct {
	// Config is the model shape of a new run; Vocab is taken from the
	// tokenizer. Ignored when resuming.
	Config Config
	// Options are the hyperparameters of a new run, TrainFiles and
	// ValidFiles included. When resuming they come from the checkpoint.
	Options Options
	// Run are the session's settings.
	Run RunOptions

	// VocabSize is the size of the byte-level BPE vocabulary trained on
	// the training text with tokenizer.TrainByteBPE (sugarme/tokenizer's
	// trainer), unless Tokenizer names an existing one (any file
	// tokenizer.Load reads).
	VocabSize int
	Tokenizer string
	// EOS is the end-of-text token of a trained vocabulary; "" means
	// DefaultEOS.
	EOS string

	// Resume continues the run saved in this checkpoint.
	Resume string

	// Output is the model file to export to ("" exports nothing), with
	// Export's options, which Execute checks against the model before it
	// reads any data. With an Output, validation during training scores the
	// model as exported (RunOptions.Export).
	Output string
	Export ExportOptions
	// Command is the command line, recorded in the exported file.
	Command string
}

// Execute runs the job. Progress goes to Run.Log.
func (j Job) Execute(ctx context.Context) (Summary, error) {
	log := j.Run.Log
	if log == nil {
		log = io.Discard
	}
	var s *State
	var err error
	opts := j.Options
	cfg := j.Config
	if j.Resume != "" {
		if s, err = LoadCheckpoint(j.Resume); err != nil {
			return Summary{}, err
		}
		fmt.Fprintf(log, "resuming %s at step %d of %d\n", j.Resume, s.Step, s.Options.Steps)
		s.Options.TrainFiles = resumePaths(s.Options.TrainFiles, j.Resume)
		s.Options.ValidFiles = resumePaths(s.Options.ValidFiles, j.Resume)
		opts, cfg = s.Options, s.Model.Config
	} else {
		if err := j.Check(); err != nil {
			return Summary{}, err
		}
		// Checkpoints record the files absolute, so that a resumed run
		// finds them from any directory.
		if opts.TrainFiles, err = absPaths(opts.TrainFiles); err != nil {
			return Summary{}, err
		}
		if opts.ValidFiles, err = absPaths(opts.ValidFiles); err != nil {
			return Summary{}, err
		}
	}
	run := j.Run
	if j.Output != "" {
		// Fail now, not after training, when the model cannot be written
		// as asked (Check did for a new run).
		if err := j.Export.Validate(cfg); err != nil {
			return Summary{}, err
		}
		run.Export = &j.Export
	}
	if len(opts.TrainFiles) == 0 {
		return Summary{}, errors.New("no training text files")
	}
	trainTexts, err := ReadTexts(opts.TrainFiles)
	if err != nil {
		return Summary{}, err
	}
	var validTexts []string
	if len(opts.ValidFiles) > 0 {
		if validTexts, err = ReadTexts(opts.ValidFiles); err != nil {
			return Summary{}, err
		}
	}

	if s == nil {
		tok, err := j.tokenizer(trainTexts, log)
		if err != nil {
			return Summary{}, err
		}
		cfg.Vocab = tok.VocabSize()
		if s, err = NewState(cfg, tok, opts); err != nil {
			return Summary{}, err
		}
	}

	start := time.Now()
	train := Tokenize(s.Tokenizer, trainTexts)
	var valid *Corpus
	if validTexts != nil {
		valid = Tokenize(s.Tokenizer, validTexts)
	}
	fmt.Fprintf(log, "tokenized %d training bytes into %d tokens (%.2f bytes/token)", totalLen(trainTexts), len(train.Tokens),
		float64(totalLen(trainTexts))/float64(max(len(train.Tokens), 1)))
	if valid != nil {
		fmt.Fprintf(log, ", %d held-out tokens", len(valid.Tokens))
	}
	fmt.Fprintf(log, " in %s\n", roundDuration(time.Since(start)))

	t, err := NewTrainer(s, train, valid, run)
	if err != nil {
		return Summary{}, err
	}
	sum, err := t.Train(ctx)
	if err != nil {
		return sum, err
	}
	fmt.Fprintf(log, "trained %d steps, %d tokens in %s\n", sum.Steps, sum.Tokens, roundDuration(sum.Elapsed))
	if j.Output == "" {
		return sum, nil
	}
	eo := j.Export
	eo.Training = &TrainingRecord{
		Steps: sum.Steps, Tokens: sum.Tokens, WallSeconds: sum.Elapsed.Seconds(),
		ValidLoss: sum.Valid.Loss, Command: j.Command,
	}
	if err := Export(j.Output, s.Model, s.Tokenizer, eo); err != nil {
		return sum, err
	}
	fmt.Fprintf(log, "exported %s\n", j.Output)
	return sum, nil
}

// Check checks what a new run can check before it reads any data: the
// model shape, the hyperparameters and, with an Output, the export options
// against the shape (ExportOptions.Validate). Execute calls it first. The
// vocabulary size comes from the tokenizer and is checked again once known.
// A resumed run takes its shape and hyperparameters from the checkpoint, so
// Check does not apply to it; Execute validates its export options as soon
// as the checkpoint is loaded.
func (j Job) Check() error {
	if j.Resume != "" {
		return nil
	}
	if len(j.Options.TrainFiles) == 0 {
		return errors.New("no training text files")
	}
	c := j.Config
	c.Vocab = 1
	if j.Tokenizer == "" && j.VocabSize > 0 {
		c.Vocab = j.VocabSize
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if err := j.Options.withDefaults(c.Float).validate(); err != nil {
		return fmt.Errorf("training options: %w", err)
	}
	if j.Output != "" {
		return j.Export.Validate(c)
	}
	return nil
}

// absPaths returns paths made absolute.
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("data file %s: %w", p, err)
		}
		out[i] = a
	}
	return out, nil
}

// resumePaths finds the data files a checkpoint records. Checkpoints record
// absolute paths; a relative one (as older checkpoints recorded them,
// relative to the directory training ran in) that does not exist from the
// working directory is taken relative to the checkpoint's directory. The
// result is absolute where a file was found, so the next checkpoint records
// it absolute; a path found nowhere is kept for ReadTexts to report.
func resumePaths(paths []string, checkpoint string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if filepath.IsAbs(p) {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			beside := filepath.Join(filepath.Dir(checkpoint), p)
			if _, err := os.Stat(beside); err != nil {
				continue
			}
			p = beside
		}
		if a, err := filepath.Abs(p); err == nil {
			out[i] = a
		}
	}
	return out
}

// tokenizer loads the job's tokenizer or trains one on texts.
func (j Job) tokenizer(texts []string, log io.Writer) (*tokenizer.Tokenizer, error) {
	if j.Tokenizer != "" {
		tok, err := tokenizer.Load(j.Tokenizer)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "tokenizer: %s, %d tokens\n", j.Tokenizer, tok.VocabSize())
		return tok, nil
	}
	eos := j.EOS
	if eos == "" {
		eos = DefaultEOS
	}
	start := time.Now()
	tok, err := tokenizer.TrainByteBPE(texts, tokenizer.TrainOptions{VocabSize: j.VocabSize, EOS: eos})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "tokenizer: trained a byte-level BPE vocabulary of %d tokens in %s\n", tok.VocabSize(), roundDuration(time.Since(start)))
	return tok, nil
}

func totalLen(texts []string) int {
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	return n
}
