package model_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/synthetic"
)

func perplexityModel(t *testing.T, batch int) *model.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	shape := synthetic.Shape{Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 300, Context: 64}
	if err := synthetic.Write(path, synthetic.Options{Shape: shape, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path, model.Options{Threads: 2, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// referencePerplexity scores the chunks independently of Perplexity's
// batching: each chunk is evaluated whole with every position's logits,
// and the log-softmax is taken in float64 from the definition.
func referencePerplexity(t *testing.T, m *model.Model, tokens []int, n, bos int) (nll float64, count int) {
	t.Helper()
	vocab := m.Config.VocabSize
	logits := make([]float32, n*vocab)
	for c := 0; c+n <= len(tokens); c += n {
		chunk := append([]int(nil), tokens[c:c+n]...)
		if bos >= 0 {
			chunk[0] = bos
		}
		if err := m.NewSession().Forward(context.Background(), chunk, logits); err != nil {
			t.Fatal(err)
		}
		for i := n / 2; i <= n-2; i++ {
			row := logits[i*vocab : (i+1)*vocab]
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v))
			}
			nll += math.Log(z) - float64(row[chunk[i+1]])
			count++
		}
	}
	return nll / float64(count), count
}

func TestPerplexityMatchesDefinition(t *testing.T) {
	const n = 32
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]int, 5*n+7) // five chunks and a tail that is dropped
	for i := range tokens {
		tokens[i] = rng.IntN(300)
	}
	ref := perplexityModel(t, 64)
	for _, bos := range []int{-1, 298} {
		want, count := referencePerplexity(t, ref, tokens, n, bos)
		if count != 5*(n-1-n/2) {
			t.Fatalf("reference scored %d tokens", count)
		}
		// Batches smaller than the scored half exercise the split loop.
		for _, batch := range []int{1, 5, 64} {
			m := perplexityModel(t, batch)
			var calls int
			res, err := m.Perplexity(context.Background(), tokens, model.PerplexityOptions{
				Context: n, BOS: bos, Progress: func(model.PerplexityResult) { calls++ },
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Chunks != 5 || res.TotalChunks != 5 || res.Tokens != count || calls != 5 {
				t.Fatalf("bos %d batch %d: %+v after %d progress calls, want 5 chunks of %d tokens", bos, batch, res, calls, count)
			}
			if math.Abs(res.NLL-want) > 1e-6*want {
				t.Fatalf("bos %d batch %d: mean NLL %.9f, reference %.9f", bos, batch, res.NLL, want)
			}
			if res.PPL() != math.Exp(res.NLL) || !(res.PPLError() > 0) {
				t.Fatalf("PPL %v, error %v", res.PPL(), res.PPLError())
			}
		}
	}
	// Chunks limits the evaluation.
	m := perplexityModel(t, 64)
	res, err := m.Perplexity(context.Background(), tokens, model.PerplexityOptions{Context: n, Chunks: 2, BOS: -1})
	if err != nil || res.Chunks != 2 || res.Tokens != 2*(n-1-n/2) {
		t.Fatalf("two chunks: %+v, %v", res, err)
	}
}

func TestPerplexityRejectsBadInput(t *testing.T) {
	m := perplexityModel(t, 64)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		tokens []int
		opts   model.PerplexityOptions
	}{
		{"context above the cache", make([]int, 200), model.PerplexityOptions{Context: 65, BOS: -1}},
		{"context too short", make([]int, 200), model.PerplexityOptions{Context: 3, BOS: -1}},
		{"text shorter than a chunk", make([]int, 31), model.PerplexityOptions{Context: 32, BOS: -1}},
		{"BOS outside the vocabulary", make([]int, 64), model.PerplexityOptions{Context: 32, BOS: 300}},
		{"token outside the vocabulary", append(make([]int, 40), 300), model.PerplexityOptions{Context: 41, BOS: -1}},
	} {
		if _, err := m.Perplexity(ctx, c.tokens, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
