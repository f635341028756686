package lm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// shippedConfig is the shape of the default model in models/ (see
// models/MODEL_CARD.md), and shippedBatch its micro-batch.
var shippedConfig = Config{Vocab: 2048, Dim: 256, Layers: 6, Heads: 4, KVHeads: 2, FFN: 768, Context: 256, Activation: bitnet.ReLU2}

const shippedBatch = 8

// benchmarkTrainStep measures one micro-batch forward and backward plus an
// optimizer update, and reports training tokens per second.
func benchmarkTrainStep(b *testing.B, cfg Config, batch, threads int) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := NewModel(cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	pool := kernels.NewPool(threads)
	defer pool.Close()
	opt := NewAdamW(m.Params(), adamBeta1, adamBeta2, adamEps, 0.1)
	n := batch * cfg.Context
	inputs, targets := make([]int, n), make([]int, n)
	for i := range inputs {
		inputs[i], targets[i] = rng.IntN(cfg.Vocab), rng.IntN(cfg.Vocab)
	}
	step := func() {
		logits := m.Forward(pool, inputs, batch, cfg.Context)
		bitnet.CrossEntropy(pool, logits, logits, targets, cfg.Vocab)
		m.Backward(pool, logits)
		ClipGradients(pool, m.Params(), 1)
		opt.Update(pool, 1e-3)
	}
	step() // sizes every buffer
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrainStep is the training throughput of the shipped
// configuration, ternary and float, on 2 threads (the target machine).
func BenchmarkTrainStep(b *testing.B) {
	for _, float := range []bool{false, true} {
		cfg := shippedConfig
		cfg.Float = float
		name := "ternary"
		if float {
			name = "float"
		}
		b.Run(fmt.Sprintf("%s/threads=2", name), func(b *testing.B) { benchmarkTrainStep(b, cfg, shippedBatch, 2) })
	}
}
