package lm

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// Export's options.
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
	if j.Resume != "" {
		if s, err = LoadCheckpoint(j.Resume); err != nil {
			return Summary{}, err
		}
		fmt.Fprintf(log, "resuming %s at step %d of %d\n", j.Resume, s.Step, s.Options.Steps)
	}
	opts := j.Options
	if s != nil {
		opts = s.Options
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
		cfg := j.Config
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

	t, err := NewTrainer(s, train, valid, j.Run)
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
