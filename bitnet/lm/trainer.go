package lm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// AdamW constants of every run.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.95
	adamEps   = 1e-8
)

// Options are a run's hyperparameters. They are recorded in checkpoints and
// a resumed run keeps them, so that it continues bit for bit. Start from
// DefaultOptions; NewState fills zero values of Batch, Accum, LR, MinLR and
// Warmup with the defaults given below.
type Options struct {
	// Steps is the number of optimizer steps. Required.
	Steps int
	// Batch is the number of sequences (of the model's context length) per
	// micro-batch. Default 8.
	Batch int
	// Accum is the number of micro-batches whose gradients are summed into
	// one step (gradient accumulation). Default 1.
	Accum int
	// LR is the peak learning rate. Default 2e-3 (ternary) or 1e-3 (float).
	LR float64
	// MinLR is the learning rate the cosine decay ends at. Default LR/10.
	MinLR float64
	// Warmup is the number of steps of linear warmup. Default Steps/20.
	Warmup int
	// WeightDecay is AdamW's decoupled weight decay of matrices; 0 is none.
	WeightDecay float64
	// ClipNorm bounds the global gradient norm; 0 disables clipping.
	ClipNorm float64
	// Seed chooses the initial weights and the training windows.
	Seed uint64
	// EvalChunks is the number of held-out chunks each validation scores;
	// 0 scores them all.
	EvalChunks int
	// TrainFiles and ValidFiles name the text the run reads, recorded so a
	// resumed run can find them again.
	TrainFiles, ValidFiles []string
}

// DefaultOptions returns the recommended hyperparameters for steps steps:
// weight decay 0.1, gradient clipping at 1, 16 validation chunks, and the
// defaults listed on Options.
func DefaultOptions(steps int) Options {
	return Options{Steps: steps, WeightDecay: 0.1, ClipNorm: 1, EvalChunks: 16}
}

func (o Options) withDefaults(float bool) Options {
	if o.Batch == 0 {
		o.Batch = 8
	}
	if o.Accum == 0 {
		o.Accum = 1
	}
	if o.LR == 0 {
		o.LR = 2e-3
		if float {
			o.LR = 1e-3
		}
	}
	if o.MinLR == 0 {
		o.MinLR = o.LR / 10
	}
	if o.Warmup == 0 {
		o.Warmup = o.Steps / 20
	}
	return o
}

func (o Options) schedule() Schedule {
	return Schedule{Peak: o.LR, Min: o.MinLR, Warmup: o.Warmup, Total: o.Steps}
}

func (o Options) validate() error {
	switch {
	case o.Steps <= 0:
		return fmt.Errorf("step count %d must be positive", o.Steps)
	case o.Batch <= 0 || o.Batch > 1<<12 || o.Accum <= 0 || o.Accum > 1<<12:
		return fmt.Errorf("batch %d × accumulation %d is out of range", o.Batch, o.Accum)
	case o.WeightDecay < 0 || o.WeightDecay >= 1:
		return fmt.Errorf("weight decay %v is outside [0, 1)", o.WeightDecay)
	case o.ClipNorm < 0 || math.IsNaN(o.ClipNorm):
		return fmt.Errorf("clipping norm %v is negative", o.ClipNorm)
	case o.EvalChunks < 0:
		return fmt.Errorf("validation chunk count %d is negative", o.EvalChunks)
	}
	return o.schedule().validate()
}

// newRand returns a PCG generator for one purpose (stream) of a run.
func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// Random streams of a run.
const (
	streamInit = 1 << 62 // initial weights
	streamData = 0       // + the micro-batch index: training windows
)

// NewState starts a run: a model of shape cfg initialised from o.Seed, a
// fresh optimizer and step 0.
func NewState(cfg Config, tok *tokenizer.Tokenizer, o Options) (*State, error) {
	o = o.withDefaults(cfg.Float)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("training options: %w", err)
	}
	if tok.VocabSize() != cfg.Vocab {
		return nil, fmt.Errorf("the tokenizer has %d tokens, the model config %d", tok.VocabSize(), cfg.Vocab)
	}
	m, err := NewModel(cfg, newRand(o.Seed, streamInit))
	if err != nil {
		return nil, err
	}
	opt := NewAdamW(m.params, adamBeta1, adamBeta2, adamEps, float32(o.WeightDecay))
	return &State{Model: m, Tokenizer: tok, Optimizer: opt, Options: o}, nil
}

// RunOptions are the settings of one training session that do not affect
// the result; they may change when a run is resumed.
type RunOptions struct {
	// Threads is the worker count; 0 means one per CPU.
	Threads int
	// Log receives progress lines (nil discards them).
	Log io.Writer
	// LogEvery is the number of steps between progress lines; 0 means 10.
	LogEvery int
	// EvalEvery is the number of steps between validations; 0 validates
	// only at the end.
	EvalEvery int
	// Checkpoint is where checkpoints are written ("" writes none): every
	// SaveEvery steps (0: only at the end), at the end, and when the run is
	// interrupted.
	Checkpoint string
	SaveEvery  int
	// Export, when set, is how the model will be exported: validation then
	// scores the model's Exported copy, the values the file will hold (F16
	// embeddings rounded, TQ scales in fp16), so that the validation loss is
	// the exported model's. Nil scores the float32 latent model.
	Export *ExportOptions
}

// Summary describes a finished session.
type Summary struct {
	Steps     int
	Tokens    int64
	Elapsed   time.Duration // over all sessions of the run
	TrainLoss float64       // mean over the last logging interval
	Valid     Evaluation    // the final validation (zero without held-out text)
}

// Trainer runs the training loop of one session.
type Trainer struct {
	*State
	TrainData, ValidData *Corpus
	Run                  RunOptions

	pool            *kernels.Pool
	inputs, targets []int
	sessionStart    time.Time
	elapsedAtStart  float64 // seconds of earlier sessions
	// The current logging interval.
	intervalLoss   float64
	intervalSteps  int
	intervalStart  time.Time
	intervalTokens int64
}

// NewTrainer prepares a session of s on the corpora. valid may be nil. The
// corpora's fingerprints are recorded in s, or, when s was resumed from a
// checkpoint, checked against it.
func NewTrainer(s *State, train, valid *Corpus, run RunOptions) (*Trainer, error) {
	seq := s.Model.Config.Context
	if run.Export != nil {
		if err := run.Export.Validate(s.Model.Config); err != nil {
			return nil, err
		}
	}
	if len(train.Tokens) <= seq {
		return nil, fmt.Errorf("the training text has %d tokens, fewer than one window of %d", len(train.Tokens), seq+1)
	}
	if valid != nil && len(valid.Tokens) < seq {
		return nil, fmt.Errorf("the held-out text has %d tokens, fewer than one chunk of %d", len(valid.Tokens), seq)
	}
	trainHash, validHash := train.Hash(), uint64(0)
	if valid != nil {
		validHash = valid.Hash()
	}
	if s.Step > 0 || s.TrainHash != 0 {
		if trainHash != s.TrainHash {
			return nil, errors.New("the training text differs from the checkpoint's (its tokens hash differently); resume with the same files")
		}
		if validHash != s.ValidHash {
			return nil, errors.New("the held-out text differs from the checkpoint's; resume with the same files")
		}
	}
	s.TrainHash, s.ValidHash = trainHash, validHash
	if run.LogEvery <= 0 {
		run.LogEvery = 10
	}
	if run.Log == nil {
		run.Log = io.Discard
	}
	n := s.Options.Batch * seq
	return &Trainer{State: s, TrainData: train, ValidData: valid, Run: run, inputs: make([]int, n), targets: make([]int, n)}, nil
}

// Train runs steps until Options.Steps, then validates and saves a final
// checkpoint. When ctx is cancelled it saves a checkpoint (when configured)
// and returns ctx's error.
func (t *Trainer) Train(ctx context.Context) (Summary, error) {
	t.pool = kernels.NewPool(t.Run.Threads)
	defer t.pool.Close()
	t.sessionStart, t.elapsedAtStart = time.Now(), t.Elapsed
	t.intervalStart = t.sessionStart
	o := t.Options
	fmt.Fprintf(t.Run.Log, "model: %v, %d parameters\n", t.Model.Config, t.Model.ParamCount())
	fmt.Fprintf(t.Run.Log, "data: %d training tokens, %d tokens per step (%d × %d × %d); step %d of %d\n",
		len(t.TrainData.Tokens), o.Batch*o.Accum*t.Model.Config.Context, o.Accum, o.Batch, t.Model.Config.Context, t.Step, o.Steps)
	var sum Summary
	for t.Step < o.Steps {
		if err := ctx.Err(); err != nil {
			return sum, t.interrupted(err)
		}
		if err := t.step(); err != nil {
			return sum, err
		}
		if t.Step%t.Run.LogEvery == 0 || t.Step == o.Steps || t.Step == 1 {
			sum.TrainLoss = t.logProgress()
		}
		if t.Run.EvalEvery > 0 && t.Step%t.Run.EvalEvery == 0 && t.Step < o.Steps {
			if _, err := t.validate(ctx); err != nil {
				return sum, t.interrupted(err)
			}
		}
		if t.Run.SaveEvery > 0 && t.Step%t.Run.SaveEvery == 0 && t.Step < o.Steps {
			if err := t.save(); err != nil {
				return sum, err
			}
		}
	}
	ev, err := t.validate(ctx)
	if err != nil {
		return sum, t.interrupted(err)
	}
	sum.Steps, sum.Tokens, sum.Valid = t.Step, t.Tokens, ev
	sum.Elapsed = time.Duration(t.elapsed() * float64(time.Second))
	if err := t.save(); err != nil {
		return sum, err
	}
	return sum, nil
}

// elapsed returns the run's training time in seconds.
func (t *Trainer) elapsed() float64 {
	return t.elapsedAtStart + time.Since(t.sessionStart).Seconds()
}

// step runs one optimizer step: Accum micro-batches forward and backward,
// clipping, and the AdamW update.
func (t *Trainer) step() error {
	o, m := t.Options, t.Model
	seq, vocab := m.Config.Context, m.Config.Vocab
	var loss float64
	for a := range o.Accum {
		rng := newRand(o.Seed, streamData+uint64(t.Step)*uint64(o.Accum)+uint64(a))
		if err := t.TrainData.Sample(rng, o.Batch, seq, t.inputs, t.targets); err != nil {
			return err
		}
		logits := m.Forward(t.pool, t.inputs, o.Batch, seq)
		l := bitnet.CrossEntropy(t.pool, logits, logits, t.targets, vocab)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("step %d: the training loss is %v", t.Step+1, l)
		}
		if o.Accum > 1 {
			s := float32(1 / float64(o.Accum))
			parallelChunks(t.pool, len(logits), func(lo, hi int) { kernels.Scale(logits[lo:hi], s) })
		}
		m.Backward(t.pool, logits)
		loss += l / float64(o.Accum)
	}
	ClipGradients(t.pool, m.params, o.ClipNorm)
	t.Optimizer.Update(t.pool, o.schedule().LR(t.Step))
	t.Step++
	tokens := int64(o.Accum * o.Batch * seq)
	t.Tokens += tokens
	t.intervalTokens += tokens
	t.intervalLoss += loss
	t.intervalSteps++
	return nil
}

// logProgress prints one progress line and returns the interval's mean
// training loss.
func (t *Trainer) logProgress() float64 {
	now := time.Now()
	secs := now.Sub(t.intervalStart).Seconds()
	loss := t.intervalLoss / float64(t.intervalSteps)
	rate := float64(t.intervalTokens) / secs
	perStep := secs / float64(t.intervalSteps)
	eta := time.Duration(perStep * float64(t.Options.Steps-t.Step) * float64(time.Second))
	fmt.Fprintf(t.Run.Log, "step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  elapsed %s  eta %s\n",
		t.Step, t.Options.Steps, loss, t.Options.schedule().LR(t.Step-1), rate,
		roundDuration(time.Duration(t.elapsed()*float64(time.Second))), roundDuration(eta))
	t.intervalLoss, t.intervalSteps, t.intervalTokens, t.intervalStart = 0, 0, 0, now
	return loss
}

func roundDuration(d time.Duration) time.Duration { return d.Round(time.Second) }

// validate scores the held-out text (Options.EvalChunks chunks) and prints
// the result. Its time does not count towards the tokens/s of the next
// progress line.
func (t *Trainer) validate(ctx context.Context) (Evaluation, error) {
	if t.ValidData == nil {
		return Evaluation{}, nil
	}
	start := time.Now()
	m := t.Model
	if t.Run.Export != nil {
		var err error
		if m, err = t.Model.Exported(*t.Run.Export); err != nil {
			return Evaluation{}, err
		}
	}
	ev, err := m.Evaluate(ctx, t.pool, t.ValidData, t.Model.Config.Context, t.Options.EvalChunks, t.Options.Batch)
	if err != nil {
		return ev, err
	}
	t.intervalStart = t.intervalStart.Add(time.Since(start))
	fmt.Fprintf(t.Run.Log, "step %d/%d  valid loss %.4f  ppl %.3f  (%d chunks, %d tokens, %s)\n",
		t.Step, t.Options.Steps, ev.Loss, ev.Perplexity(), ev.Chunks, ev.Tokens, roundDuration(time.Since(start)))
	return ev, nil
}

// save writes a checkpoint when the session has a path for one.
func (t *Trainer) save() error {
	if t.Run.Checkpoint == "" {
		return nil
	}
	t.Elapsed = t.elapsed()
	if err := SaveCheckpoint(t.Run.Checkpoint, t.State); err != nil {
		return err
	}
	fmt.Fprintf(t.Run.Log, "step %d/%d  checkpoint saved to %s\n", t.Step, t.Options.Steps, t.Run.Checkpoint)
	return nil
}

// interrupted saves a checkpoint after cancellation and returns cause,
// saying where the run can be resumed from.
func (t *Trainer) interrupted(cause error) error {
	if !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	if t.Run.Checkpoint == "" {
		return fmt.Errorf("training interrupted at step %d (no checkpoint configured): %w", t.Step, cause)
	}
	if err := t.save(); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("training interrupted at step %d; resume with --resume %s: %w", t.Step, t.Run.Checkpoint, cause)
}
