package lm

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/bitnet"
)

// resumeRun is a short run with gradient accumulation and validation.
func resumeRun(t *testing.T) (*State, *Corpus, *Corpus) {
	t.Helper()
	tok := microTokenizer(t)
	train := Tokenize(tok, []string{smallText(t, 40_000)})
	valid := Tokenize(tok, []string{heldOutText(t, 4_000)})
	o := DefaultOptions(6)
	o.Batch, o.Accum, o.Seed, o.Warmup, o.EvalChunks = 2, 2, 3, 2, 4
	s, err := NewState(microConfig(tok.VocabSize()), tok, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, train, valid
}

// bitsEqual reports whether two float32 slices are equal bit for bit.
func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A run interrupted after three of six steps, saved and resumed from its
// checkpoint ends with exactly the parameters and optimizer moments of an
// uninterrupted run.
func TestResumeIsBitExact(t *testing.T) {
	ctx := context.Background()
	straight, train, valid := resumeRun(t)
	tr, err := NewTrainer(straight, train, valid, RunOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Train(ctx)
	if err != nil {
		t.Fatal(err)
	}

	first, _, _ := resumeRun(t)
	path := filepath.Join(t.TempDir(), "ckpt.gguf")
	stop, cancel := context.WithCancel(ctx)
	var log strings.Builder
	tr, err = NewTrainer(first, train, valid, RunOptions{Threads: 2, Checkpoint: path, Log: &log, LogEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Cancel once three steps are logged; the trainer checks before each step.
	tr.Run.Log = cancelAfter{&log, "step 3/6  loss", cancel}
	if _, err := tr.Train(stop); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	resumed, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Step != 3 || resumed.Tokens != 3*2*2*32 {
		t.Fatalf("checkpoint at step %d with %d tokens, want step 3", resumed.Step, resumed.Tokens)
	}
	tr, err = NewTrainer(resumed, train, valid, RunOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Train(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps != 6 || got.Tokens != want.Tokens || got.Valid != want.Valid {
		t.Fatalf("resumed run: %+v, uninterrupted: %+v", got, want)
	}
	for i, p := range straight.Model.Params() {
		q := resumed.Model.Params()[i]
		m1, v1 := straight.Optimizer.moments(i)
		m2, v2 := resumed.Optimizer.moments(i)
		if p.Name != q.Name || !bitsEqual(p.Data, q.Data) || !bitsEqual(m1, m2) || !bitsEqual(v1, v2) {
			t.Fatalf("parameter %s differs after resuming", p.Name)
		}
	}
	if resumed.Optimizer.Steps != 6 {
		t.Fatalf("optimizer took %d steps", resumed.Optimizer.Steps)
	}
}

// cancelAfter cancels a context when a line containing marker is written.
type cancelAfter struct {
	w      *strings.Builder
	marker string
	cancel context.CancelFunc
}

func (c cancelAfter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.marker) {
		c.cancel()
	}
	return c.w.Write(p)
}

func TestResumeRejectsOtherData(t *testing.T) {
	s, train, valid := resumeRun(t)
	path := filepath.Join(t.TempDir(), "ckpt.gguf")
	tr, err := NewTrainer(s, train, valid, RunOptions{Threads: 1, Checkpoint: path})
	if err != nil {
		t.Fatal(err)
	}
	tr.pool = nil
	if err := tr.step(); err != nil {
		t.Fatal(err)
	}
	if err := tr.save(); err != nil {
		t.Fatal(err)
	}
	resumed, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	other := &Corpus{Tokens: append([]int32(nil), train.Tokens[1:]...), BOS: train.BOS}
	if _, err := NewTrainer(resumed, other, valid, RunOptions{}); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("resuming on other training text: %v", err)
	}
	if _, err := NewTrainer(resumed, train, nil, RunOptions{}); err == nil {
		t.Fatal("resuming without the held-out text was accepted")
	}
	// A model file is not a checkpoint.
	model := filepath.Join(t.TempDir(), "m.gguf")
	if err := Export(model, s.Model, s.Tokenizer, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(model); err == nil || !strings.Contains(err.Error(), "not a training checkpoint") {
		t.Fatalf("loading a model as a checkpoint: %v", err)
	}
}

func TestScheduleAndClipping(t *testing.T) {
	s := Schedule{Peak: 1e-3, Min: 1e-4, Warmup: 10, Total: 110}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 1e-4}, {9, 1e-3}, {10, 1e-3}, {60, 5.5e-4}, {110, 1e-4}, {500, 1e-4}} {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LR(%d) = %g, want %g", c.step, got, c.want)
		}
	}
	p := bitnet.NewParam("w", 2, 2)
	copy(p.Grad, []float32{3, 0, 0, 4})
	if n := ClipGradients(nil, []*bitnet.Param{p}, 1); n != 5 || math.Abs(GradNorm([]*bitnet.Param{p})-1) > 1e-6 {
		t.Fatalf("clipping a gradient of norm %v left norm %v", n, GradNorm([]*bitnet.Param{p}))
	}
}

func TestConfigValidation(t *testing.T) {
	good := microConfig(300)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, float := range []bool{false, true} {
		c := shippedConfig
		c.Float = float
		m, err := NewModel(c, newRand(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if m.ParamCount() != c.ParamCount() || c.ParamCount() != 5_252_352 {
			t.Fatalf("float %v: model holds %d values, Config.ParamCount says %d", float, m.ParamCount(), c.ParamCount())
		}
	}
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Vocab = 0 },
		func(c *Config) { c.Dim = 130 },             // not a multiple of 4 heads
		func(c *Config) { c.Heads, c.Dim = 3, 129 }, // odd head dimension
		func(c *Config) { c.KVHeads = 3 },
		func(c *Config) { c.Context = -1 },
		func(c *Config) { c.Layers = 1 << 30 },
		func(c *Config) { c.Activation = 7 },
		func(c *Config) { c.NormEps = 2 },
		func(c *Config) { c.Vocab, c.Dim, c.FFN = 1<<20, 1<<12, 1<<12 }, // 4G embedding values
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
