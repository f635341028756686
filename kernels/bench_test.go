package kernels

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
)

// Benchmarks of the products at the shapes of BitNet b1.58 2B4T (hidden
// 2560, FFN 6912, vocabulary 128256). Throughput (MB/s) is weight bytes read
// per second: SetBytes is the matrix's encoded size.

// benchThreads are the thread counts benchmarked: one, and one per CPU.
func benchThreads() []int {
	if n := runtime.NumCPU(); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

// benchMatrices caches matrices across benchmark runs (-count), as building
// the large ones takes longer than measuring them.
var benchMatrices = map[string]*Matrix{}

func benchMatrix(b *testing.B, typ Type, rows, cols int) *Matrix {
	key := fmt.Sprintf("%v %dx%d", typ, rows, cols)
	if m, ok := benchMatrices[key]; ok {
		return m
	}
	var m *Matrix
	if typ == F16 {
		m = fastF16Matrix(b, rows, cols)
	} else {
		m = randomMatrix(b, newRand(uint64(rows*cols)), typ, rows, cols, ordinaryScales)
	}
	benchMatrices[key] = m
	return m
}

// fastF16Matrix fills a large F16 matrix with values in (-1, 1) from a cheap
// generator (xorshift), since drawing each weight from math/rand would
// dominate the benchmark's set-up.
func fastF16Matrix(b *testing.B, rows, cols int) *Matrix {
	data := make([]byte, 2*rows*cols)
	s := uint64(0x9e3779b97f4a7c15)
	for i := 0; i+8 <= len(data); i += 8 {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		// Four fp16 values: random sign and mantissa, exponents below 15 (|v| < 1).
		binary.LittleEndian.PutUint64(data[i:], s&0xbbffbbffbbffbbff)
	}
	m, err := NewMatrix(F16, rows, cols, data)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

var ternaryBenchShapes = []struct{ rows, cols int }{
	{2560, 2560}, // attention projections
	{6912, 2560}, // FFN gate and up: 6912 outputs from 2560 inputs
	{2560, 6912}, // FFN down
}

// BenchmarkTernaryMatVec is one token through a ternary projection: the
// decode step's inner loop.
func BenchmarkTernaryMatVec(b *testing.B) {
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		for _, s := range ternaryBenchShapes {
			for _, threads := range benchThreads() {
				b.Run(fmt.Sprintf("%v/%dx%d/threads=%d", typ, s.rows, s.cols, threads), func(b *testing.B) {
					benchMatMulI8(b, typ, s.rows, s.cols, 1, threads)
				})
			}
		}
	}
}

// BenchmarkTernaryPrefill is a 64-token batch through a 2560x2560 ternary
// projection: the prompt-processing inner loop.
func BenchmarkTernaryPrefill(b *testing.B) {
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("%v/2560x2560/tokens=64/threads=%d", typ, threads), func(b *testing.B) {
				benchMatMulI8(b, typ, 2560, 2560, 64, threads)
			})
		}
	}
}

func benchMatMulI8(b *testing.B, typ Type, rows, cols, tokens, threads int) {
	m := benchMatrix(b, typ, rows, cols)
	p := NewPool(threads)
	defer p.Close()
	var a QuantizedRows
	QuantizeRowsI8(&a, randomActivations(newRand(1), tokens, cols, false), tokens, cols)
	dst := make([]float32, tokens*rows)
	b.SetBytes(int64(m.Bytes()))
	for b.Loop() {
		p.MatMulI8(dst, m, &a)
	}
	if tokens > 1 {
		b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	}
}

// BenchmarkLMHead is one token through the F16 tied embeddings of 2B4T, the
// largest float product of a decode step.
func BenchmarkLMHead(b *testing.B) {
	const rows, cols = 128256, 2560
	for _, threads := range benchThreads() {
		b.Run(fmt.Sprintf("F16/%dx%d/threads=%d", rows, cols, threads), func(b *testing.B) {
			m := benchMatrix(b, F16, rows, cols)
			p := NewPool(threads)
			defer p.Close()
			x := randomActivations(newRand(2), 1, cols, false)
			dst := make([]float32, rows)
			b.SetBytes(int64(m.Bytes()))
			for b.Loop() {
				p.MatMulF32(dst, m, x, 1)
			}
		})
	}
}
