package kernels

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// SIMD names the instruction set of the kernels dispatched now:
// "avx512-vnni", "avx2" or "generic" (the portable Go kernels, also the only
// level with the purego build tag or off amd64). The choice is made at
// start-up from the CPU's features, the fastest the CPU runs; UseSIMD
// changes it.
func SIMD() string { return simdLevel() }

// SIMDLevels returns the kernel levels this CPU can run, fastest first:
// a subset of "avx512-vnni", "avx2", "generic", always ending in "generic".
func SIMDLevels() []string { return simdLevels() }

// UseSIMD dispatches the kernels of level (one of SIMDLevels) in place of the
// current ones, for tests and benchmarks that compare instruction sets end to
// end, for example a model run on the AVX2 kernels of an AVX-512 machine or on
// the portable Go kernels. It returns a function that restores the previous
// level. An unknown level, or one the CPU lacks, is an error and changes
// nothing.
//
// UseSIMD rewrites the package's dispatch tables, so it is not safe to call
// while any kernel runs (a Pool product, Softmax, RoPE, ...) or concurrently
// with itself; callers switch between runs, not during them. Programs need
// not call it: the fastest level is chosen at start-up.
func UseSIMD(level string) (restore func(), err error) {
	levels := simdLevels()
	if !slices.Contains(levels, level) {
		return nil, fmt.Errorf("kernels: SIMD level %q is not available on this CPU (available: %s)", level, strings.Join(levels, ", "))
	}
	prev := simdLevel()
	setSIMD(level)
	return func() { setSIMD(prev) }, nil
}

// dispatch is the state of the dispatch tables: which kernel runs each
// product and the tile heights the pool splits rows by.
type dispatch struct {
	i8                  map[Type]matMulI8Kernel
	f32                 map[Type]matMulF32Kernel
	i8TileRows, f32Tile int
	int8Row             matMulInt8RowKernel
	quantizeRow         func([]int8, []float32) (float32, int32)
	binaryI8            matMulBinaryI8Kernel
}

// saveDispatch copies the current dispatch tables.
func saveDispatch() dispatch {
	return dispatch{maps.Clone(matMulI8Kernels), maps.Clone(matMulF32Kernels),
		matMulI8TileRows, matMulF32TileRows, matMulInt8Row, quantizeRowI8, matMulBinaryI8}
}

// load makes d the current dispatch tables.
func (d dispatch) load() {
	matMulI8Kernels, matMulF32Kernels = maps.Clone(d.i8), maps.Clone(d.f32)
	matMulI8TileRows, matMulF32TileRows = d.i8TileRows, d.f32Tile
	matMulInt8Row, quantizeRowI8 = d.int8Row, d.quantizeRow
	matMulBinaryI8 = d.binaryI8
}

// genericDispatch holds the tables as declared, with the scalar oracles,
// saved before any faster kernel is registered.
var genericDispatch dispatch

func init() {
	genericDispatch = saveDispatch()
	setSIMD(simdLevels()[0])
}

// setSIMD dispatches the kernels of a level of simdLevels: the scalar
// oracles, then the level's faster kernels over them.
func setSIMD(level string) {
	genericDispatch.load()
	setSIMDLevel(level)
	registerSIMD()
}
