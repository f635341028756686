package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// checkSample checks a parsed sample file against what writeSample wrote.
func checkSample(t *testing.T, f *File, b []byte, alignment uint64) {
	t.Helper()
	if f.Version != 3 || f.Alignment != alignment {
		t.Errorf("version %d alignment %d, want 3 and %d", f.Version, f.Alignment, alignment)
	}
	want := sampleKVs()
	kvs := f.KVs
	if alignment != DefaultAlignment {
		if len(kvs) == 0 || kvs[0].Key != "general.alignment" {
			t.Fatalf("general.alignment is not the first key: %v", kvs)
		}
		if a, ok := kvs[0].Value.Int(); !ok || uint64(a) != alignment || kvs[0].Value.Type != TypeUint32 {
			t.Errorf("general.alignment = %v (%v), want u32 %d", kvs[0].Value.Format(), kvs[0].Value.Type, alignment)
		}
		kvs = kvs[1:]
	}
	if len(kvs) != len(want) {
		t.Fatalf("%d metadata entries, want %d", len(kvs), len(want))
	}
	for i, kv := range kvs {
		if kv.Key != want[i].Key || kv.Value.Type != want[i].Value.Type || !reflect.DeepEqual(kv.Value.Any(), want[i].Value.Any()) {
			t.Errorf("entry %d: %q = %v %#v, want %q = %v %#v", i, kv.Key, kv.Value.Type, kv.Value.Any(),
				want[i].Key, want[i].Value.Type, want[i].Value.Any())
		}
	}
	if f.DataOffset%alignment != 0 {
		t.Errorf("data section at %d is not aligned to %d", f.DataOffset, alignment)
	}
	tensors := sampleTensors(t)
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for i, st := range tensors {
		got := &f.Tensors[i]
		if got.Name != st.name || got.Type != st.typ || !reflect.DeepEqual(got.Dims, st.dims) {
			t.Errorf("tensor %d: %q %v %v, want %q %v %v", i, got.Name, got.Type, got.Dims, st.name, st.typ, st.dims)
		}
		if got.Offset%alignment != 0 {
			t.Errorf("tensor %q at data offset %d, not aligned to %d", got.Name, got.Offset, alignment)
		}
		if !bytes.Equal(got.Data, st.data) {
			t.Errorf("tensor %q data differs", got.Name)
		}
		// Zero-copy: Data is the file's own bytes, capped at the tensor's end.
		start := f.DataOffset + got.Offset
		if len(got.Data) == 0 || &got.Data[0] != &b[start] || cap(got.Data) != len(got.Data) {
			t.Errorf("tensor %q: Data is not a capped view of the file at %d", got.Name, start)
		}
		if byName, ok := f.Tensor(st.name); !ok || byName != got {
			t.Errorf("Tensor(%q) = %v, %v", st.name, byName, ok)
		}
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	for _, alignment := range []uint32{0, 1, 64, 4096} {
		b := writeSample(t, alignment)
		f, err := Parse(b)
		if err != nil {
			t.Fatalf("alignment %d: %v", alignment, err)
		}
		want := uint64(alignment)
		if alignment == 0 {
			want = DefaultAlignment
		}
		checkSample(t, f, b, want)
		// Data views alias the buffer: writing to it shows through.
		tq := f.Tensors[6]
		b[f.DataOffset+tq.Offset] ^= 0xff
		if tq.Data[0] != b[f.DataOffset+tq.Offset] {
			t.Errorf("tensor data is a copy")
		}
	}
}

// TestAlignmentKey checks that alignment set through the general.alignment
// key itself (not SetAlignment) is honoured by the writer too, in every
// integer type the reader accepts.
func TestAlignmentKey(t *testing.T) {
	for _, v := range []any{uint32(64), uint8(128), int32(16), uint64(256)} {
		w := NewWriter()
		w.AddKV("general.alignment", v)
		data := []byte{1, 2, 3, 4}
		w.AddTensor("a", kernels.F32, []uint64{1}, data)
		w.AddTensor("b", kernels.F32, []uint64{1}, data)
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatalf("general.alignment %T %v: %v", v, v, err)
		}
		f, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("general.alignment %T %v: %v", v, v, err)
		}
		a, _ := NewValue(v)
		want, _ := a.Int()
		if f.Alignment != uint64(want) || f.Tensors[1].Offset != uint64(want) || f.DataOffset%uint64(want) != 0 {
			t.Errorf("general.alignment %T %v: alignment %d, second tensor at %d, data at %d", v, v, f.Alignment, f.Tensors[1].Offset, f.DataOffset)
		}
	}
	for _, v := range []any{uint32(48), int32(-32), "32", uint32(0)} {
		w := NewWriter()
		w.AddKV("general.alignment", v)
		if _, err := w.WriteTo(io.Discard); err == nil {
			t.Errorf("general.alignment %T %v: writer accepted it", v, v)
		}
	}
}

func TestMetadataOnlyFile(t *testing.T) {
	w := NewWriter()
	w.AddKV("general.name", "only metadata")
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || len(f.KVs) != 1 {
		t.Errorf("%d tensors, %d keys", len(f.Tensors), len(f.KVs))
	}
	// The same file without its trailing padding is still valid.
	end := 4 + 4 + 8 + 8 + 8 + len("general.name") + 4 + 8 + len("only metadata")
	if _, err := Parse(buf.Bytes()[:end]); err != nil {
		t.Errorf("unpadded metadata-only file: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	f, err := Parse(writeSample(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	if f.Architecture() != "bitnet" {
		t.Errorf("Architecture() = %q", f.Architecture())
	}
	if s, ok := f.String("t.string"); !ok || s != "héllo\x00world" {
		t.Errorf("String = %q, %v", s, ok)
	}
	for key, want := range map[string]int64{"t.u8": 200, "t.i8": -100, "t.u16": 60000, "t.i16": -30000,
		"t.u32": 4000000000, "t.i32": -2000000000, "t.i64": math.MinInt64} {
		if got, ok := f.Int(key); !ok || got != want {
			t.Errorf("Int(%q) = %d, %v; want %d", key, got, ok, want)
		}
	}
	if _, ok := f.Int("t.u64"); ok {
		t.Error("Int of a u64 above MaxInt64 succeeded")
	}
	if _, ok := f.Int("t.string"); ok {
		t.Error("Int of a string succeeded")
	}
	if v, ok := f.Float("t.f32"); !ok || v != 3.25 {
		t.Errorf("Float(t.f32) = %v, %v", v, ok)
	}
	if v, ok := f.Float("t.f64"); !ok || v != math.Pi {
		t.Errorf("Float(t.f64) = %v, %v", v, ok)
	}
	if v, ok := f.Float("t.i16"); !ok || v != -30000 {
		t.Errorf("Float(t.i16) = %v, %v", v, ok)
	}
	if v, ok := f.Bool("t.bool.true"); !ok || !v {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if _, ok := f.Bool("t.u8"); ok {
		t.Error("Bool of a u8 succeeded")
	}
	if s, ok := f.Strings("a.string"); !ok || !reflect.DeepEqual(s, []string{"a", "", "ccc"}) {
		t.Errorf("Strings = %q, %v", s, ok)
	}
	if _, ok := f.Strings("a.u8"); ok {
		t.Error("Strings of a u8 array succeeded")
	}
	if v, ok := f.Float32s("a.i32"); !ok || !reflect.DeepEqual(v, []float32{-1, 0, 1}) {
		t.Errorf("Float32s(a.i32) = %v, %v", v, ok)
	}
	if v, ok := f.Float32s("a.f64"); !ok || !reflect.DeepEqual(v, []float32{float32(math.Inf(1)), -0.25}) {
		t.Errorf("Float32s(a.f64) = %v, %v", v, ok)
	}
	if _, ok := f.Float32s("a.string"); ok {
		t.Error("Float32s of a string array succeeded")
	}
	if v, ok := f.Ints("a.u16"); !ok || !reflect.DeepEqual(v, []int64{0, 65535}) {
		t.Errorf("Ints(a.u16) = %v, %v", v, ok)
	}
	if _, ok := f.Ints("a.f32"); ok {
		t.Error("Ints of a float array succeeded")
	}
	if _, ok := f.Ints("a.u64"); ok {
		t.Error("Ints of a u64 array above MaxInt64 succeeded")
	}
	for _, missing := range []func() bool{
		func() bool { _, ok := f.Get("nope"); return ok },
		func() bool { _, ok := f.String("nope"); return ok },
		func() bool { _, ok := f.Int("nope"); return ok },
		func() bool { _, ok := f.Float("nope"); return ok },
		func() bool { _, ok := f.Bool("nope"); return ok },
		func() bool { _, ok := f.Strings("nope"); return ok },
		func() bool { _, ok := f.Float32s("nope"); return ok },
		func() bool { _, ok := f.Ints("nope"); return ok },
		func() bool { _, ok := f.Tensor("nope"); return ok },
	} {
		if missing() {
			t.Error("a missing key was found")
		}
	}
	v, _ := f.Get("a.nested")
	arr, ok := v.Array()
	if !ok || arr.ElemType != TypeArray || arr.Len() != 3 {
		t.Fatalf("a.nested = %v", v.Format())
	}
	if s := v.Format(); !strings.Contains(s, "array") {
		t.Errorf("Format of a nested array = %q", s)
	}
	long, _ := NewValue(strings.Repeat("x", 100))
	if s := long.Format(); len(s) > 70 || !strings.HasSuffix(s, `..."`) {
		t.Errorf("Format of a long string = %q", s)
	}
	if s := (Value{}).Format(); s == "" {
		t.Error("Format of the zero Value is empty")
	}
	tn, _ := f.Tensor("bf16.cube")
	if tn.Elems() != 10 || tn.Rows() != 2 || tn.Cols() != 5 {
		t.Errorf("bf16.cube: %d elems, %d rows, %d cols", tn.Elems(), tn.Rows(), tn.Cols())
	}
}

func TestWriterReplacesKey(t *testing.T) {
	w := NewWriter()
	w.AddKV("k", uint32(1))
	w.AddKV("other", "x")
	w.AddKV("k", "two")
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.KVs) != 2 || f.KVs[0].Key != "k" {
		t.Fatalf("keys %v", f.KVs)
	}
	if s, _ := f.String("k"); s != "two" {
		t.Errorf("k = %q, want the later value", s)
	}
}

func TestWriterErrors(t *testing.T) {
	data4 := make([]byte, 4)
	cases := []struct {
		name  string
		build func(w *Writer)
	}{
		{"duplicate tensor", func(w *Writer) {
			w.AddTensor("t", kernels.F32, []uint64{1}, data4)
			w.AddTensor("t", kernels.F32, []uint64{1}, data4)
		}},
		{"no dimensions", func(w *Writer) { w.AddTensor("t", kernels.F32, nil, nil) }},
		{"five dimensions", func(w *Writer) { w.AddTensor("t", kernels.F32, []uint64{1, 1, 1, 1, 1}, data4) }},
		{"row not whole blocks", func(w *Writer) { w.AddTensor("t", kernels.Q8_0, []uint64{33}, make([]byte, 36)) }},
		{"unknown tensor type", func(w *Writer) { w.AddTensor("t", kernels.Type(2), []uint64{32}, make([]byte, 18)) }},
		{"short tensor data", func(w *Writer) { w.AddTensor("t", kernels.F32, []uint64{2}, data4) }},
		{"long tensor data", func(w *Writer) { w.AddTensor("t", kernels.F32, []uint64{1}, make([]byte, 8)) }},
		{"unsupported metadata type", func(w *Writer) { w.AddKV("k", 5) }},
		{"unsupported array type", func(w *Writer) { w.AddKV("k", []int{5}) }},
		{"array whose elements do not match its type", func(w *Writer) { w.AddKV("k", Array{TypeUint32, []int8{1}}) }},
		{"nested array whose elements do not match", func(w *Writer) {
			w.AddKV("k", []Array{{TypeString, []string{"a"}}, {TypeFloat32, []uint8{1}}})
		}},
		{"alignment not a power of two", func(w *Writer) { w.SetAlignment(24) }},
		{"zero alignment", func(w *Writer) { w.SetAlignment(0) }},
		{"tensor writer fails", func(w *Writer) {
			w.AddTensorFunc("t", kernels.F32, []uint64{1}, func(io.Writer) error { return errors.New("disk on fire") })
		}},
	}
	for _, c := range cases {
		w := NewWriter()
		c.build(w)
		if _, err := w.WriteTo(io.Discard); err == nil {
			t.Errorf("%s: WriteTo succeeded", c.name)
		}
	}
	// An output error is reported.
	w := NewWriter()
	w.AddTensor("t", kernels.F32, []uint64{1}, data4)
	if _, err := w.WriteTo(failingWriter{}); err == nil {
		t.Error("WriteTo into a failing writer succeeded")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("write failed") }

func TestOpenAndWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gguf")
	w := NewWriter()
	for _, kv := range sampleKVs() {
		w.AddKV(kv.Key, kv.Value.Any())
	}
	for _, st := range sampleTensors(t) {
		w.AddTensor(st.name, st.typ, st.dims, st.data)
	}
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("WriteFile left %d files in the directory, want 1", len(entries))
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range sampleTensors(t) {
		if !bytes.Equal(f.Tensors[i].Data, st.data) {
			t.Errorf("tensor %q differs after Open", st.name)
		}
	}
	if len(f.KVs) != len(sampleKVs()) || f.DataOffset+f.Tensors[len(f.Tensors)-1].Offset > uint64(len(b)) {
		t.Errorf("Open: %d keys, data at %d of %d bytes", len(f.KVs), f.DataOffset, len(b))
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGML not a gguf file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); !errors.Is(err, ErrFormat) {
		t.Errorf("Open of a bad file: %v, want ErrFormat", err)
	}
}
