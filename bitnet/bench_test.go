package bitnet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// Benchmarks of a 256x1024 layer (both orientations) on 256 tokens, on a
// pool of two threads. GFLOP/s counts the float work of one dense product,
// 2·tokens·in·out, per forward (a backward does two such products).

const benchTokens = 256

var benchShapes = []struct{ in, out int }{{256, 1024}, {1024, 256}}

func benchLayer(b *testing.B, kind string, backward bool) {
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%dx%d", s.in, s.out), func(b *testing.B) {
			pool := kernels.NewPool(2)
			defer pool.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			cfg := BitLinearConfig{BitWidth: 8, InputNorm: NormNone}
			var l layer
			switch kind {
			case "BitLinear":
				l, _ = NewBitLinear(s.in, s.out, cfg, rng)
			case "BitLinear1_58":
				l, _ = NewBitLinear1_58(s.in, s.out, cfg, rng)
			default:
				l = NewLinear(s.in, s.out, false, rng)
			}
			x := randVec(rng, benchTokens*s.in, 1)
			dy := randVec(rng, benchTokens*s.out, 1)
			l.Forward(pool, x)
			for b.Loop() {
				if backward {
					l.Backward(pool, dy)
				} else {
					l.Forward(pool, x)
				}
			}
			flops := 2 * float64(benchTokens*s.in*s.out)
			if backward {
				flops *= 2
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(benchTokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func BenchmarkBitLinear1_58Forward(b *testing.B)  { benchLayer(b, "BitLinear1_58", false) }
func BenchmarkBitLinear1_58Backward(b *testing.B) { benchLayer(b, "BitLinear1_58", true) }
func BenchmarkBitLinearForward(b *testing.B)      { benchLayer(b, "BitLinear", false) }
func BenchmarkBitLinearBackward(b *testing.B)     { benchLayer(b, "BitLinear", true) }
func BenchmarkLinearForward(b *testing.B)         { benchLayer(b, "Linear", false) }
func BenchmarkLinearBackward(b *testing.B)        { benchLayer(b, "Linear", true) }

func BenchmarkPackedForward(b *testing.B) {
	for _, s := range benchShapes {
		for _, kind := range []string{"BitLinear", "BitLinear1_58-I2_S"} {
			b.Run(fmt.Sprintf("%s/%dx%d", kind, s.in, s.out), func(b *testing.B) {
				pool := kernels.NewPool(2)
				defer pool.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				cfg := BitLinearConfig{BitWidth: 8, InputNorm: NormNone}
				var forward func(*kernels.Pool, []float32) []float32
				if kind == "BitLinear" {
					l, _ := NewBitLinear(s.in, s.out, cfg, rng)
					pl, err := l.Pack()
					if err != nil {
						b.Fatal(err)
					}
					forward = pl.Forward
				} else {
					l, _ := NewBitLinear1_58(s.in, s.out, cfg, rng)
					pl, err := l.Pack(kernels.I2_S)
					if err != nil {
						b.Fatal(err)
					}
					forward = pl.Forward
				}
				x := randVec(rng, benchTokens*s.in, 1)
				for b.Loop() {
					forward(pool, x)
				}
				b.ReportMetric(benchTokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

func BenchmarkAttention(b *testing.B) {
	const batch, seq, heads, kvHeads, hd = 4, 256, 8, 4, 64
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	a, _ := NewAttention(heads, kvHeads, hd)
	q := randVec(rng, batch*seq*heads*hd, 1)
	k := randVec(rng, batch*seq*kvHeads*hd, 1)
	v := randVec(rng, batch*seq*kvHeads*hd, 1)
	dout := randVec(rng, len(q), 1)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			a.Forward(pool, q, k, v, batch, seq)
		}
		b.ReportMetric(batch*seq*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("backward", func(b *testing.B) {
		a.Forward(pool, q, k, v, batch, seq)
		for b.Loop() {
			a.Backward(pool, dout)
		}
		b.ReportMetric(batch*seq*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}

// BenchmarkTinyLMStep measures a training step (forward, loss, backward; no
// optimizer) of a one-block LLaMA-style ternary model at the scale the
// trainer targets: dim 384, 6 heads (2 KV heads), FFN 1024, vocabulary 4096,
// 8 sequences of 256 tokens.
func BenchmarkTinyLMStep(b *testing.B) {
	const batch, seq, vocab, dim, heads, kvHeads, ffn = 8, 256, 4096, 384, 6, 2, 1024
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	m := newTinyLM(b, rng, batch, seq, vocab, dim, heads, kvHeads, ffn)
	tokens, targets := make([]int, batch*seq), make([]int, batch*seq)
	for i := range tokens {
		tokens[i], targets[i] = rng.IntN(vocab), rng.IntN(vocab)
	}
	grad := make([]float32, batch*seq*vocab)
	for b.Loop() {
		CrossEntropy(pool, grad, m.forward(pool, tokens), targets, vocab)
		m.backward(pool, grad)
	}
	b.ReportMetric(batch*seq*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
