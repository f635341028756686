package model

import (
	"math"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/golden"
)

// useLevel dispatches the kernels of a SIMD level until the test ends.
func useLevel(t *testing.T, level string) {
	t.Helper()
	restore, err := kernels.UseSIMD(level)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
}

// TestGoldenLogitsEveryLevel runs the golden cases (TestGoldenLogits) with
// the kernels of every SIMD level this CPU supports, so that the slower
// levels of a fast machine (AVX2 on an AVX-512 VNNI CPU, the portable Go
// kernels everywhere) are judged end to end as well.
func TestGoldenLogitsEveryLevel(t *testing.T) {
	for _, level := range kernels.SIMDLevels() {
		t.Run(level, func(t *testing.T) {
			useLevel(t, level)
			TestGoldenLogits(t)
		})
	}
}

// TestIntegerLevelsAgree checks that the AVX-512 VNNI and AVX2 levels give
// the same logits bit for bit on every golden case and arithmetic: their
// ternary products are exact integer sums and they share every float
// kernel, so any difference is a bug in one of them. It needs a CPU with
// both.
func TestIntegerLevelsAgree(t *testing.T) {
	levels := kernels.SIMDLevels()
	if !slices.Contains(levels, "avx512-vnni") || !slices.Contains(levels, "avx2") {
		t.Skipf("needs the avx512-vnni and avx2 levels; this CPU has %v", levels)
	}
	for _, c := range golden.Cases(t) {
		modes := map[ActivationMode]bool{}
		for _, ch := range c.Spec.Checks {
			if mode, ok := checkModes[ch.Name]; ok {
				modes[mode] = true
			}
		}
		for mode := range modes {
			var first [][]float32
			for _, level := range []string{"avx512-vnni", "avx2"} {
				restore, err := kernels.UseSIMD(level)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Load(c.ModelPath(), Options{Activations: mode, BatchSize: 16, ContextLength: len(c.Tokens.Sequence)})
				if err != nil {
					restore()
					t.Fatal(err)
				}
				got := teacherForced(t, m, c.Tokens.Sequence)
				m.Close()
				restore()
				if first == nil {
					first = got
					continue
				}
				for p := range got {
					for v := range got[p] {
						if math.Float32bits(got[p][v]) != math.Float32bits(first[p][v]) {
							t.Fatalf("%s, %v activations: position %d logit %d is %v with avx2, %v with avx512-vnni",
								c.Name, mode, p, v, got[p][v], first[p][v])
						}
					}
				}
			}
		}
	}
}
