package gguf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// hostileCase is a malformed file the reader must reject.
type hostileCase struct {
	name string
	b    []byte
}

func raw() *rawFile { return &rawFile{} }

// oneTensor is a well-formed header with one F32 tensor of dims at offset,
// followed by the aligned data section holding dataBytes bytes.
func oneTensor(typ kernels.Type, offset uint64, dataBytes int, dims ...uint64) []byte {
	r := raw().header(1, 0).tensor("w", typ, offset, dims...).pad(32)
	return r.zeros(dataBytes).b
}

// nested returns an array value (type tag already written by the caller)
// nested depth levels deep around one empty u8 array.
func nested(r *rawFile, depth int) *rawFile {
	for i := 0; i < depth-1; i++ {
		r.u32(uint32(TypeArray)).u64(1)
	}
	return r.u32(uint32(TypeUint8)).u64(0)
}

func hostileCases() []hostileCase {
	const huge = 1 << 60
	cases := []hostileCase{
		{"empty file", nil},
		{"magic only", []byte("GGUF")},
		{"wrong magic", raw().bytes('G', 'G', 'M', 'L').u32(3).u64(0).u64(0).b},
		{"version 1", raw().bytes('G', 'G', 'U', 'F').u32(1).u64(0).u64(0).b},
		{"version 4", raw().bytes('G', 'G', 'U', 'F').u32(4).u64(0).u64(0).b},
		{"version 2^32-1", raw().bytes('G', 'G', 'U', 'F').u32(math.MaxUint32).u64(0).u64(0).b},
		{"truncated counts", raw().bytes('G', 'G', 'U', 'F').u32(3).u64(0).b},
		{"KV count 2^60", raw().header(0, huge).b},
		{"KV count 2^64-1", raw().header(0, math.MaxUint64).b},
		{"tensor count 2^60", raw().header(huge, 0).b},
		{"tensor count 2^64-1", raw().header(math.MaxUint64, 0).b},
		{"key length 2^60", raw().header(0, 1).u64(huge).b},
		{"key length 2^64-1", raw().header(0, 1).u64(math.MaxUint64).bytes('k').b},
		{"string length 2^60", raw().header(0, 1).kv("k", TypeString).u64(huge).bytes('x').b},
		{"string longer than the file", raw().header(0, 1).kv("k", TypeString).u64(20).bytes('x', 'y').b},
		{"u8 array count 2^60", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeUint8)).u64(huge).b},
		{"u64 array count 2^61 (byte size wraps to 0)", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeUint64)).u64(1 << 61).b},
		{"string array count 2^60", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeString)).u64(huge).zeros(64).b},
		{"array of arrays count 2^60", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeArray)).u64(huge).zeros(64).b},
		{"bool array count 2^60", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeBool)).u64(huge).zeros(8).b},
		{"unknown value type 13", raw().header(0, 1).kv("k", 13).u64(0).b},
		{"unknown value type 2^32-1", raw().header(0, 1).kv("k", math.MaxUint32).u64(0).b},
		{"unknown array element type", raw().header(0, 1).kv("k", TypeArray).u32(13).u64(1).zeros(8).b},
		{"bool byte 2", raw().header(0, 1).kv("k", TypeBool).u8(2).b},
		{"bool array element 2", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeBool)).u64(3).bytes(1, 0, 2).b},
		{"arrays nested 9 deep", nested(raw().header(0, 1).kv("k", TypeArray), 9).b},
		{"truncated scalar", raw().header(0, 1).kv("k", TypeUint64).bytes(1, 2, 3).b},
		{"truncated array", raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeInt32)).u64(3).u32(1).u32(2).b},
		{"duplicate key", raw().header(0, 2).kv("k", TypeUint8).u8(1).kv("k", TypeUint8).u8(2).b},
		{"alignment 48", raw().header(0, 1).kv("general.alignment", TypeUint32).u32(48).b},
		{"alignment 0", raw().header(0, 1).kv("general.alignment", TypeUint32).u32(0).b},
		{"alignment -32", raw().header(0, 1).kv("general.alignment", TypeInt32).u32(math.MaxUint32 - 31).b},
		{"alignment 2^21", raw().header(0, 1).kv("general.alignment", TypeUint32).u32(1 << 21).b},
		{"alignment 2^63", raw().header(0, 1).kv("general.alignment", TypeUint64).u64(1 << 63).b},
		{"alignment string", raw().header(0, 1).kv("general.alignment", TypeString).str("32").b},
		{"n_dims 0", raw().header(1, 0).str("w").u32(0).u32(0).u64(0).zeros(32).b},
		{"n_dims 5", raw().header(1, 0).tensor("w", kernels.F32, 0, 1, 1, 1, 1, 1).zeros(32).b},
		{"n_dims 2^32-1", raw().header(1, 0).str("w").u32(math.MaxUint32).u64(1).u64(1).u32(0).u64(0).zeros(32).b},
		{"zero dimension", oneTensor(kernels.F32, 0, 32, 8, 0)},
		{"dims product overflows 2^64", oneTensor(kernels.F32, 0, 32, 1<<32, 1<<32)},
		{"dims product 2^51", oneTensor(kernels.F32, 0, 32, 1<<26, 1<<25)},
		{"dimension 2^64-1", oneTensor(kernels.F32, 0, 32, math.MaxUint64)},
		{"tensor name length 2^60", raw().header(1, 0).u64(huge).zeros(40).b},
		{"unknown tensor type 2 (Q4_0)", oneTensor(2, 0, 32, 32)},
		{"unknown tensor type 2^32-1", oneTensor(math.MaxUint32, 0, 64, 8)},
		{"Q8_0 row of 33", oneTensor(kernels.Q8_0, 0, 64, 33)},
		{"I2_S row of 64", oneTensor(kernels.I2_S, 0, 64, 64)},
		{"tensor beyond the end of the file", oneTensor(kernels.F32, 0, 16, 8)},
		{"tensor offset beyond the end", oneTensor(kernels.F32, 1<<40, 32, 8)},
		{"tensor offset near 2^64 (offset+size wraps)", oneTensor(kernels.F32, math.MaxUint64&^31, 32, 8)},
		{"misaligned tensor offset", oneTensor(kernels.F32, 4, 64, 8)},
		{"data section beyond the end", raw().header(1, 0).tensor("w", kernels.F32, 0, 1).b},
		{"truncated tensor info", raw().header(1, 0).str("w").u32(2).u64(8).b},
		{"overlapping tensors (same offset)",
			raw().header(2, 0).tensor("a", kernels.F32, 0, 8).tensor("b", kernels.F32, 0, 8).pad(32).zeros(64).b},
		{"overlapping tensors (second starts inside the first)",
			raw().header(2, 0).tensor("a", kernels.F32, 0, 16).tensor("b", kernels.F32, 32, 8).pad(32).zeros(96).b},
		{"overlapping tensors (listed out of order)",
			raw().header(2, 0).tensor("b", kernels.F32, 32, 8).tensor("a", kernels.F32, 0, 16).pad(32).zeros(96).b},
		{"duplicate tensor name",
			raw().header(2, 0).tensor("a", kernels.F32, 0, 8).tensor("a", kernels.F32, 32, 8).pad(32).zeros(64).b},
		// Type 36 is I2_S only when it occupies n/4 + 32 bytes; mainline
		// ggml's removed IQ4_NL_4_4 (18 bytes per 32) also has id 36.
		{"type 36 with the size of IQ4_NL_4_4 before another tensor",
			raw().header(2, 0).tensor("q", kernels.I2_S, 0, 256).tensor("n", kernels.F32, 160, 8).pad(32).zeros(192).b},
		{"type 36 with the size of IQ4_NL_4_4 at the end",
			raw().header(1, 0).tensor("q", kernels.I2_S, 0, 256, 4).pad(32).zeros(4 * 144).b},
	}
	// Truncations of a valid one-tensor file inside its tensor data.
	ok := oneTensor(kernels.F32, 0, 32, 8)
	cases = append(cases, hostileCase{"truncated tensor data", ok[:len(ok)-1]})
	return cases
}

func TestHostileFiles(t *testing.T) {
	for _, c := range hostileCases() {
		f, err := parseNoPanic(c.b)
		if err == nil {
			t.Errorf("%s: parsed without error: %d keys, %d tensors", c.name, len(f.KVs), len(f.Tensors))
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %q does not wrap ErrFormat", c.name, err)
		}
	}
}

// parseNoPanic parses b and turns a panic into an error that does not wrap
// ErrFormat, so tests report it as a failure.
func parseNoPanic(b []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return Parse(b)
}

// TestHostileFilesAllocateLittle checks that none of the small hostile files
// makes the reader allocate more than a few KB, whatever sizes they claim.
func TestHostileFilesAllocateLittle(t *testing.T) {
	for _, c := range hostileCases() {
		if got := allocatedBy(func() { _, _ = Parse(c.b) }); got > 4<<10 {
			t.Errorf("%s (%d bytes): parsing allocated %d bytes", c.name, len(c.b), got)
		}
	}
}

// TestAllocationFollowsParsedBytes checks that what a file claims does not
// size allocations: in a large file, a count that could fit but whose first
// element is broken must not make the reader allocate for every claimed
// element.
func TestAllocationFollowsParsedBytes(t *testing.T) {
	const size = 16 << 20
	fill := func(r *rawFile) []byte {
		b := make([]byte, size)
		copy(b, r.b)
		for i := len(r.b); i < size; i++ {
			b[i] = 0xff // every length read from here is absurd
		}
		return b
	}
	claim := uint64(size / 40)
	for _, c := range []hostileCase{
		{"KV count", fill(raw().header(0, claim))},
		{"tensor count", fill(raw().header(claim, 0))},
		{"string array count", fill(raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeString)).u64(claim))},
		{"nested array count", fill(raw().header(0, 1).kv("k", TypeArray).u32(uint32(TypeArray)).u64(claim))},
	} {
		var err error
		got := allocatedBy(func() { _, err = Parse(c.b) })
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v", c.name, err)
		}
		if got > 256<<10 {
			t.Errorf("%s of %d claimed in a %d MB file: parsing allocated %d bytes before failing on the first element",
				c.name, claim, size>>20, got)
		}
	}
}

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestTruncatedEverywhere cuts a valid file at every byte offset: every cut
// before the end of the last tensor's data is an error wrapping ErrFormat;
// cuts in the padding after it still parse.
func TestTruncatedEverywhere(t *testing.T) {
	b := writeSample(t, 0)
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	last := f.Tensors[len(f.Tensors)-1]
	end := int(f.DataOffset + last.Offset + uint64(len(last.Data)))
	for n := 0; n < len(b); n++ {
		_, err := parseNoPanic(b[:n])
		if n < end && !errors.Is(err, ErrFormat) {
			t.Fatalf("cut at %d of %d (data ends at %d): error %v", n, len(b), end, err)
		}
		if n >= end && err != nil {
			t.Fatalf("cut at %d, after the data ends at %d: %v", n, end, err)
		}
	}
}

// TestType36BitnetSize checks that type 36 tensors of I2_S's own size are
// accepted, last or followed by another tensor, with the default and a
// larger alignment.
func TestType36BitnetSize(t *testing.T) {
	for _, alignment := range []uint32{0, 256} {
		w := NewWriter()
		if alignment != 0 {
			w.SetAlignment(alignment)
		}
		i2s := make([]byte, 256*4/4+32)
		w.AddTensor("a", kernels.I2_S, []uint64{256, 4}, i2s)
		w.AddTensor("b", kernels.F32, []uint64{8}, make([]byte, 32))
		w.AddTensor("c", kernels.I2_S, []uint64{128}, make([]byte, 128/4+32))
		b := writeTo(t, w)
		if _, err := Parse(b); err != nil {
			t.Errorf("alignment %d: %v", alignment, err)
		}
	}
}

func writeTo(t *testing.T, w *Writer) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
