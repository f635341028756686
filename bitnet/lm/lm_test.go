package lm

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// sharedDir returns ../shared relative to the repository root, skipping the
// test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared data folder %s is absent: %v", shared, err)
	}
	return shared
}

// smallText returns the first n bytes of the TinyStories training head, cut
// at a story separator.
func smallText(t testing.TB, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "corpora", "tinystories", "tinystories_train_head_2MiB.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b[:min(n, len(b))])
	if i := strings.LastIndex(s, DefaultEOS); i > 0 {
		s = s[:i+len(DefaultEOS)]
	}
	return s
}

var (
	microOnce sync.Once
	microTok  *tokenizer.Tokenizer
	microErr  error
)

// microTokenizer is a 320-token vocabulary trained once on 40 KB of
// TinyStories.
func microTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	text := smallText(t, 40_000)
	microOnce.Do(func() {
		microTok, microErr = tokenizer.TrainByteBPE([]string{text}, tokenizer.TrainOptions{VocabSize: 320, EOS: DefaultEOS})
	})
	if microErr != nil {
		t.Fatal(microErr)
	}
	return microTok
}

// microConfig is a model small enough to train in seconds; its widths are
// multiples of 128 so that it exports as I2_S.
func microConfig(vocab int) Config {
	return Config{Vocab: vocab, Dim: 128, Layers: 2, Heads: 4, KVHeads: 2, FFN: 256, Context: 32, Activation: bitnet.ReLU2}
}

// trainMicro trains the micro model on the small text for steps steps and
// returns the state, the corpus, the loss of the first step and the mean
// loss of the last 20 steps.
func trainMicro(t *testing.T, steps int) (*State, *Corpus, float64, float64) {
	t.Helper()
	tok := microTokenizer(t)
	corpus := Tokenize(tok, []string{smallText(t, 40_000)})
	o := DefaultOptions(steps)
	o.Batch, o.LR, o.Seed = 8, 3e-3, 7
	s, err := NewState(microConfig(tok.VocabSize()), tok, o)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	tr, err := NewTrainer(s, corpus, nil, RunOptions{Threads: 2, Log: &log, LogEvery: 20})
	if err != nil {
		t.Fatal(err)
	}
	first := -1.0
	var last float64
	tr.pool = kernels.NewPool(2)
	defer tr.pool.Close()
	for s.Step < steps {
		if err := tr.step(); err != nil {
			t.Fatal(err)
		}
		if first < 0 {
			first = tr.intervalLoss
		}
		if s.Step%20 == 0 {
			last = tr.intervalLoss / float64(tr.intervalSteps)
			tr.intervalLoss, tr.intervalSteps = 0, 0
		}
	}
	return s, corpus, first, last
}

// A micro model trained for 300 steps on 40 KB of stories: the mean loss
// of the last 20 steps must be at least 2.5 nats below the first step's
// (about ln 320 = 5.8), then each exported file must give the same logits
// in the engine as the trainer's inference-mode forward, and the trainer's
// validation the same loss as the engine's perplexity. With F32 embeddings
// and I2_S projections the file holds the trained values themselves and
// Model.Logits is compared; with F16 embeddings (the shipped encoding) the
// file holds the table rounded to fp16 and the model's Exported copy, which
// computes with the file's values, is compared.
func TestTrainExportMatchesEngine(t *testing.T) {
	const steps, minDrop = 300, 2.5
	s, corpus, first, last := trainMicro(t, steps)
	t.Logf("training loss %.3f -> %.3f over %d steps", first, last, steps)
	if first-last < minDrop {
		t.Fatalf("training loss fell from %.3f to %.3f, less than %v nats", first, last, minDrop)
	}
	seq := make([]int, 40) // longer than the training context, over several engine batches
	for i := range seq {
		seq[i] = int(corpus.Tokens[1000+i])
	}
	seq[0] = s.Tokenizer.BOS()
	held := Tokenize(s.Tokenizer, []string{heldOutText(t, 6_000)})
	pool := kernels.NewPool(2)
	defer pool.Close()

	for _, c := range []struct {
		name string
		opts ExportOptions
	}{
		{"f32 embeddings", ExportOptions{Embeddings: kernels.F32, Name: "micro"}},
		{"f16 embeddings", ExportOptions{Embeddings: kernels.F16, Name: "micro"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "micro.gguf")
			if err := Export(path, s.Model, s.Tokenizer, c.opts); err != nil {
				t.Fatal(err)
			}
			eng, err := model.Load(path, model.Options{Threads: 2, BatchSize: 16, ContextLength: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			if eng.Config.Arch != "bitnet-b1.58" || eng.Config.Activation != model.ReLU2 {
				t.Fatalf("engine sees arch %s with %v", eng.Config.Arch, eng.Config.Activation)
			}
			if typ := eng.Weights.TokenEmbd.Type; typ != c.opts.Embeddings {
				t.Fatalf("the file's embeddings are %v, want %v", typ, c.opts.Embeddings)
			}
			got := make([]float32, len(seq)*s.Model.Config.Vocab)
			if err := eng.NewSession().Forward(context.Background(), seq, got); err != nil {
				t.Fatal(err)
			}
			latent := append([]float32(nil), s.Model.Logits(pool, seq)...)
			exported, err := s.Model.Exported(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := exported.Logits(pool, seq)
			if c.opts.Embeddings == kernels.F32 {
				// The file holds the trained values: the exported copy (packed
				// I2_S projections) and the training form compute the same
				// logits bit for bit.
				if !bitsEqual(want, latent) {
					d, _ := maxDiff(want, latent)
					t.Fatalf("the exported copy's logits differ from Model.Logits by %g", d)
				}
			}
			// Everything before the output head is the same arithmetic; the head
			// is a float32 dot product of Dim=128 terms summed in another order,
			// which moves a logit by a few ulps of the largest term.
			worst, scale := maxDiff(got, want)
			latentDiff, _ := maxDiff(got, latent)
			t.Logf("max |engine - trainer| = %.3g, max |logit| = %.3g (engine - float32 latent model: %.3g)", worst, scale, latentDiff)
			if worst > 1e-5*scale {
				t.Fatalf("engine logits differ from the trainer's by %g (logits up to %g)", worst, scale)
			}

			// The trainer's validation scores held-out text as the engine's
			// Perplexity does (same chunks, BOS, scored half). The trainer
			// batches attention differently, which can flip the rounding of an
			// int8 activation, so the two agree closely but not to the bit.
			ev, err := exported.Evaluate(context.Background(), pool, held, 32, 0, 8)
			if err != nil {
				t.Fatal(err)
			}
			res, err := eng.Perplexity(context.Background(), toInts(held.Tokens), model.PerplexityOptions{Context: 32, BOS: held.BOS})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("held-out: trainer loss %.6f (%d chunks, %d tokens), engine %.6f (%d chunks, %d tokens)", ev.Loss, ev.Chunks, ev.Tokens, res.NLL, res.Chunks, res.Tokens)
			if ev.Chunks != res.Chunks || ev.Tokens != res.Tokens || math.Abs(ev.Loss-res.NLL) > 1e-4*res.NLL {
				t.Fatalf("trainer validation %+v, engine perplexity %+v", ev, res)
			}

			// The trainer's periodic validation, told how the model will be
			// exported, scores the exported copy.
			tr := &Trainer{State: s, ValidData: held, Run: RunOptions{Log: io.Discard, Export: &c.opts}, pool: pool}
			gotValid, err := tr.validate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantValid, err := exported.Evaluate(context.Background(), pool, held, 32, s.Options.EvalChunks, s.Options.Batch)
			if err != nil {
				t.Fatal(err)
			}
			if gotValid != wantValid {
				t.Fatalf("trainer validation %+v, the exported copy scores %+v", gotValid, wantValid)
			}
		})
	}
}

// heldOutText returns the first n bytes of the TinyStories validation file.
func heldOutText(t testing.TB, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "corpora", "tinystories", "tinystories_valid_first1000.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:min(n, len(b))])
}

func toInts(x []int32) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

// engineLogits exports m, loads it in the engine and returns the logits of
// every position of seq.
func engineLogits(t *testing.T, m *Model, tok *tokenizer.Tokenizer, o ExportOptions, seq []int) ([]float32, *model.Model) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := Export(path, m, tok, o); err != nil {
		t.Fatal(err)
	}
	eng, err := model.Load(path, model.Options{Threads: 2, BatchSize: 7, ContextLength: len(seq)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	got := make([]float32, len(seq)*m.Config.Vocab)
	if err := eng.NewSession().Forward(context.Background(), seq, got); err != nil {
		t.Fatal(err)
	}
	return got, eng
}

// maxDiff returns max |a-b| and max |b|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range b {
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

// Other architectures and encodings than the trained test's: SiLU (arch
// bitnet), a float model, and the encodings that round what the model holds
// (F16 embeddings, TQ2_0 projections with their fp16 scales, F16 float
// projections), which are compared through the model's Exported copy.
func TestExportVariantsMatchEngine(t *testing.T) {
	tok := microTokenizer(t)
	pool := kernels.NewPool(2)
	defer pool.Close()
	seq := make([]int, 20)
	for i := range seq {
		seq[i] = (i*37 + 5) % tok.VocabSize()
	}
	wide := Config{Vocab: tok.VocabSize(), Dim: 256, Layers: 2, Heads: 4, KVHeads: 1, FFN: 512, Context: 16, Activation: bitnet.ReLU2}
	micro := microConfig(tok.VocabSize())
	silu, float := micro, micro
	silu.Activation = bitnet.SiLU
	float.Float = true
	for _, c := range []struct {
		name string
		cfg  Config
		opts ExportOptions
		arch string
		act  model.Activation
		// exported compares the model's Exported copy rather than the
		// model itself.
		exported bool
		// tol bounds max |Δlogit| relative to the largest logit.
		tol float64
	}{
		// Bit-exact up to the output head's summation order.
		{"silu", silu, ExportOptions{}, "bitnet", model.SiLU, false, 1e-5},
		{"f16 embeddings", micro, ExportOptions{Embeddings: kernels.F16}, "bitnet-b1.58", model.ReLU2, true, 1e-5},
		{"tq2_0 f16 embeddings", wide, ExportOptions{Weights: kernels.TQ2_0, Embeddings: kernels.F16}, "bitnet-b1.58", model.ReLU2, true, 1e-5},
		{"tq1_0", wide, ExportOptions{Weights: kernels.TQ1_0}, "bitnet-b1.58", model.ReLU2, true, 1e-5},
		// Float projections: the engine and the trainer's gemm sum the
		// products in different orders in every layer.
		{"float", float, ExportOptions{}, "bitnet-b1.58", model.ReLU2, false, 1e-4},
		{"float f16", float, ExportOptions{Weights: kernels.F16, Embeddings: kernels.F16}, "bitnet-b1.58", model.ReLU2, true, 1e-4},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewModel(c.cfg, newRand(9, 9))
			if err != nil {
				t.Fatal(err)
			}
			got, eng := engineLogits(t, m, tok, c.opts, seq)
			if eng.Config.Arch != c.arch || eng.Config.Activation != c.act {
				t.Fatalf("engine sees %s with %v", eng.Config.Arch, eng.Config.Activation)
			}
			latent := append([]float32(nil), m.Logits(pool, seq)...)
			want := latent
			if c.exported {
				e, err := m.Exported(c.opts)
				if err != nil {
					t.Fatal(err)
				}
				want = e.Logits(pool, seq)
			}
			diff, scale := maxDiff(got, want)
			latentDiff, _ := maxDiff(got, latent)
			t.Logf("max |engine - trainer| = %.3g, max |logit| = %.3g (engine - latent model: %.3g)", diff, scale, latentDiff)
			if diff > c.tol*scale {
				t.Fatalf("logits differ by %g (logits up to %g)", diff, scale)
			}
		})
	}

	// TQ2_0 stores γ as fp16 in every block: the engine's weights are the
	// trainer's codes times fp16(γ), exactly.
	m, err := NewModel(wide, newRand(9, 9))
	if err != nil {
		t.Fatal(err)
	}
	_, eng := engineLogits(t, m, tok, ExportOptions{Weights: kernels.TQ2_0, Embeddings: kernels.F16}, seq)
	for l, ly := range eng.Weights.Layers {
		for name, lin := range map[string]model.Linear{"attn_q": ly.Q, "attn_k": ly.K, "ffn_down": ly.Down} {
			if lin.W.Type != kernels.TQ2_0 {
				t.Fatalf("blk.%d.%s is %v", l, name, lin.W.Type)
			}
			var trained *bitnet.Param
			for _, p := range m.Params() {
				if p.Name == fmt.Sprintf("blk.%d.%s.weight", l, name) {
					trained = p
				}
			}
			bl, err := bitnet.NewBitLinear1_58From(trained.Shape[1], trained.Shape[0], projectionConfig, trained.Data, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := bl.QuantizeWeights(nil)
			scale := kernels.F16ToF32(kernels.F32ToF16(q.Scale[0]))
			for i, v := range lin.W.Dequantize() {
				if v != q.Codes[i]*scale {
					t.Fatalf("blk.%d.%s value %d is %v, want %v × %v", l, name, i, v, q.Codes[i], scale)
				}
			}
		}
	}
	emb := eng.Weights.TokenEmbd
	if emb.Type != kernels.F16 {
		t.Fatalf("embeddings are %v", emb.Type)
	}
}
