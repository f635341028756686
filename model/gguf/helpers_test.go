package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// rawFile builds GGUF bytes field by field, so tests can write files the
// Writer never would.
type rawFile struct{ b []byte }

func (r *rawFile) u8(v uint8) *rawFile   { r.b = append(r.b, v); return r }
func (r *rawFile) u32(v uint32) *rawFile { r.b = binary.LittleEndian.AppendUint32(r.b, v); return r }
func (r *rawFile) u64(v uint64) *rawFile { r.b = binary.LittleEndian.AppendUint64(r.b, v); return r }
func (r *rawFile) bytes(p ...byte) *rawFile {
	r.b = append(r.b, p...)
	return r
}
func (r *rawFile) str(s string) *rawFile { return r.u64(uint64(len(s))).bytes([]byte(s)...) }

// header writes the magic, version 3 and the two counts.
func (r *rawFile) header(nTensors, nKV uint64) *rawFile {
	return r.bytes('G', 'G', 'U', 'F').u32(3).u64(nTensors).u64(nKV)
}

// kv writes a key and a type tag; the caller appends the value.
func (r *rawFile) kv(key string, vt ValueType) *rawFile { return r.str(key).u32(uint32(vt)) }

// tensor writes one tensor info.
func (r *rawFile) tensor(name string, typ kernels.Type, offset uint64, dims ...uint64) *rawFile {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(offset)
}

// pad appends zeros up to a multiple of a.
func (r *rawFile) pad(a int) *rawFile {
	for len(r.b)%a != 0 {
		r.b = append(r.b, 0)
	}
	return r
}

// zeros appends n zero bytes (tensor data).
func (r *rawFile) zeros(n int) *rawFile { return r.bytes(make([]byte, n)...) }

// sampleTensor is a tensor of the sample file with its encoded bytes.
type sampleTensor struct {
	name string
	typ  kernels.Type
	dims []uint64
	data []byte
}

// sampleTensors returns one tensor of every supported type, of 1 to 4
// dimensions, with recognisable content.
func sampleTensors(t testing.TB) []sampleTensor {
	t.Helper()
	specs := []struct {
		name string
		typ  kernels.Type
		dims []uint64
	}{
		{"f32.vec", kernels.F32, []uint64{3}},
		{"f16.mat", kernels.F16, []uint64{4, 2}},
		{"q8_0.mat", kernels.Q8_0, []uint64{64, 3}},
		{"q6_k.mat", kernels.Q6_K, []uint64{256, 1}},
		{"bf16.cube", kernels.BF16, []uint64{5, 1, 2}},
		{"tq1_0.mat", kernels.TQ1_0, []uint64{256, 2}},
		{"tq2_0.vec", kernels.TQ2_0, []uint64{512}},
		{"i2_s.mat", kernels.I2_S, []uint64{128, 3}},
		{"f32.4d", kernels.F32, []uint64{2, 3, 1, 2}},
	}
	var out []sampleTensor
	for i, s := range specs {
		n := uint64(1)
		for _, d := range s.dims {
			n *= d
		}
		size, err := kernels.TensorBytes(s.typ, s.dims[0], n)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		if s.typ == kernels.I2_S { // a finite scale
			binary.LittleEndian.PutUint32(data[size-32:], math.Float32bits(0.5))
		}
		out = append(out, sampleTensor{s.name, s.typ, s.dims, data})
	}
	return out
}

// sampleKVs returns metadata of every value type, arrays of every element
// type (empty ones too) and nested arrays.
func sampleKVs() []KV {
	mk := func(key string, v any) KV {
		val, err := NewValue(v)
		if err != nil {
			panic(err)
		}
		return KV{key, val}
	}
	return []KV{
		mk("general.architecture", "bitnet"),
		mk("t.u8", uint8(200)),
		mk("t.i8", int8(-100)),
		mk("t.u16", uint16(60000)),
		mk("t.i16", int16(-30000)),
		mk("t.u32", uint32(4000000000)),
		mk("t.i32", int32(-2000000000)),
		mk("t.f32", float32(3.25)),
		mk("t.bool.true", true),
		mk("t.bool.false", false),
		mk("t.string", "héllo\x00world"),
		mk("t.string.empty", ""),
		mk("t.u64", uint64(math.MaxUint64)),
		mk("t.i64", int64(math.MinInt64)),
		mk("t.f64", math.Pi),
		mk("a.u8", []uint8{0, 1, 255}),
		mk("a.i8", []int8{-128, 0, 127}),
		mk("a.u16", []uint16{0, 65535}),
		mk("a.i16", []int16{-32768, 32767}),
		mk("a.u32", []uint32{1, 2, 3}),
		mk("a.i32", []int32{-1, 0, 1}),
		mk("a.f32", []float32{0.5, -1.5, float32(math.Inf(1))}),
		mk("a.bool", []bool{true, false, true}),
		mk("a.string", []string{"a", "", "ccc"}),
		mk("a.u64", []uint64{math.MaxUint64, 0}),
		mk("a.i64", []int64{math.MinInt64, math.MaxInt64}),
		mk("a.f64", []float64{1e300, -0.25}),
		mk("a.empty", []int32{}),
		mk("a.nested", []Array{
			{TypeUint32, []uint32{1, 2}},
			{TypeString, []string{"x"}},
			{TypeArray, []Array{{TypeFloat64, []float64{2.5}}, {TypeInt8, []int8{}}}},
		}),
	}
}

// writeSample writes the sample metadata and tensors with the given
// alignment (0: the default) and returns the file bytes.
func writeSample(t testing.TB, alignment uint32) []byte {
	t.Helper()
	w := NewWriter()
	if alignment != 0 {
		w.SetAlignment(alignment)
	}
	for _, kv := range sampleKVs() {
		w.AddKV(kv.Key, kv.Value.Any())
	}
	for _, st := range sampleTensors(t) {
		w.AddTensor(st.name, st.typ, st.dims, st.data)
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}
