//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"testing"
)

// Single-threaded benchmarks of each kernel family: the scalar oracle next to
// every instruction set this CPU runs, at the shapes of BitNet b1.58 2B4T
// (2560 x 2560; the matrices fit in the L3 cache, so these measure compute,
// not memory). SetBytes is the weight bytes read, so MB/s compare directly.

// benchTernary builds a 2560 x 2560 matrix of type t with one shared scale
// (perBlock false, the layout of real models) or random block scales.
func benchTernary(b *testing.B, t Type, perBlock bool) *Matrix {
	key := fmt.Sprintf("simd %v %v", t, perBlock)
	if m, ok := benchMatrices[key]; ok {
		return m
	}
	name := "random"
	if perBlock {
		name = "per-block scales"
	}
	for _, c := range ternaryCases(b, newRand(3), t, 2560, 2560) {
		if c.name == name {
			benchMatrices[key] = c.m
			return c.m
		}
	}
	b.Fatalf("no %s case for %v", name, t)
	return nil
}

func BenchmarkKernelTernary(b *testing.B) {
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		for _, perBlock := range []bool{false, true} {
			if perBlock && typ == I2_S {
				continue
			}
			impls := []i8Impl{{"generic", matMulI8Generic}}
			for _, s := range ternarySets(typ) {
				impls = append(impls, i8Impl{s.name, s.k.matMul})
			}
			for _, tokens := range []int{1, 64} {
				var a QuantizedRows
				QuantizeRowsI8(&a, randomActivations(newRand(1), tokens, 2560, false), tokens, 2560)
				dst := make([]float32, tokens*2560)
				for _, impl := range impls {
					scales := "one scale"
					if perBlock {
						scales = "block scales"
					}
					b.Run(fmt.Sprintf("%v/%s/tokens=%d/%s", typ, scales, tokens, impl.name), func(b *testing.B) {
						m := benchTernary(b, typ, perBlock)
						b.SetBytes(int64(m.Bytes()))
						for b.Loop() {
							impl.k(dst, m, &a, 0, m.Rows)
						}
						b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
					})
				}
			}
		}
	}
}

func BenchmarkKernelFloat(b *testing.B) {
	x := randomActivations(newRand(2), 1, 2560, false)
	dst := make([]float32, 2560)
	for typ, k := range floatSets() {
		for _, impl := range []f32Impl{{"generic", matMulF32Generic}, {"avx2", k.matMul}} {
			b.Run(fmt.Sprintf("%v/%s", typ, impl.name), func(b *testing.B) {
				m := benchMatrix(b, typ, 2560, 2560)
				b.SetBytes(int64(m.Bytes()))
				for b.Loop() {
					impl.k(dst, m, x, 1, 0, m.Rows)
				}
			})
		}
	}
	m8 := NewInt8RowMatrix(NewPool(1), benchMatrix(b, F16, 2560, 2560))
	for _, impl := range []struct {
		name string
		k    matMulInt8RowKernel
	}{{"generic", matMulInt8RowGeneric}, {"dispatched", matMulInt8Row}} {
		b.Run("int8-rows/"+impl.name, func(b *testing.B) {
			b.SetBytes(int64(m8.Bytes()))
			for b.Loop() {
				impl.k(dst, m8, x, 1, 0, m8.Rows)
			}
		})
	}
}

func BenchmarkKernelVector(b *testing.B) {
	x := randomActivations(newRand(3), 1, 6912, false)
	q := make([]int8, len(x))
	for _, impl := range []struct {
		name string
		f    func([]int8, []float32) (float32, int32)
	}{{"generic", quantizeRowI8Generic}, {"avx2", quantizeRowI8AVX2}} {
		b.Run("quantize-6912/"+impl.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				impl.f(q, x)
			}
		})
	}
	y := make([]float32, 128)
	for _, impl := range []struct {
		name string
		f    func(a, b []float32) float32
	}{{"generic", dotGeneric}, {"avx2", dot}} {
		b.Run("dot-128/"+impl.name, func(b *testing.B) {
			for b.Loop() {
				y[0] = impl.f(x[:128], y)
			}
		})
	}
	w := x[2560:5120]
	for _, impl := range []struct {
		name string
		f    func(dst, x []float32, s float32, w []float32)
		ss   func([]float32) float64
	}{{"generic", scaleMulGeneric, sumSquaresGeneric}, {"avx2", scaleMul, sumSquares}} {
		b.Run("rmsnorm-2560/"+impl.name, func(b *testing.B) {
			dst := make([]float32, 2560)
			for b.Loop() {
				impl.f(dst, x[:2560], float32(impl.ss(x[:2560])), w)
			}
		})
	}
}
