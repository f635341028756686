//go:build amd64 && !purego

package kernels

import "testing"

// TestBinaryDispatch checks that each SIMD level dispatches its own binary
// kernel, so that TestMatMulBinaryI8Levels tests every kernel.
func TestBinaryDispatch(t *testing.T) {
	want := map[string]matMulBinaryI8Kernel{
		"avx512-vnni": matMulBinaryI8VNNI,
		"avx2":        matMulBinaryI8AVX2,
		"generic":     matMulBinaryI8SWAR,
	}
	forEachLevel(t, func(t *testing.T, level string) {
		if funcPtr(matMulBinaryI8) != funcPtr(want[level]) {
			t.Errorf("level %q dispatches the wrong binary kernel", level)
		}
	})
}
