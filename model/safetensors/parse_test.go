package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// rawFile assembles a file from a literal header and data section.
func rawFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// sampleTensors returns one tensor of every readable dtype with awkward
// values (negative zero, subnormals, rounding ties) and their float32 values.
func sampleTensors() ([]TensorData, map[string][]float32) {
	f := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 3.14159, 1e-7, 65504, -0.1}
	want := map[string][]float32{
		"f32":  f,
		"f16":  make([]float32, len(f)),
		"bf16": make([]float32, len(f)),
	}
	for i, v := range f {
		want["f16"][i] = kernels.F16ToF32(kernels.F32ToF16(v))
		want["bf16"][i] = kernels.BF16ToF32(kernels.F32ToBF16(v))
	}
	return []TensorData{
		{Name: "f32", DType: F32, Shape: []uint64{2, 4}, Data: EncodeF32(f)},
		{Name: "f16", DType: F16, Shape: []uint64{8}, Data: EncodeF16(f)},
		{Name: "bf16", DType: BF16, Shape: []uint64{4, 2}, Data: EncodeBF16(f)},
		{Name: "u8", DType: U8, Shape: []uint64{3}, Data: []byte{0, 0x55, 0xff}},
		{Name: "i8", DType: I8, Shape: []uint64{1, 3}, Data: EncodeI8([]int8{-128, 0, 127})},
		{Name: "scalar", DType: F32, Shape: []uint64{}, Data: EncodeF32([]float32{42})},
		{Name: "empty", DType: F16, Shape: []uint64{0, 5}, Data: nil},
	}, want
}

func TestWriteParseRoundTrip(t *testing.T) {
	tensors, want := sampleTensors()
	md := map[string]string{"format": "pt", "note": "ünïcode \"quoted\""}
	var buf bytes.Buffer
	if err := Write(&buf, tensors, md); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if (8+f.HeaderSize)%headerAlign != 0 {
		t.Errorf("data section starts at %d, not aligned to %d", 8+f.HeaderSize, headerAlign)
	}
	if !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("metadata = %v, want %v", f.Metadata, md)
	}
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for _, in := range tensors {
		got, ok := f.Tensor(in.Name)
		if !ok {
			t.Fatalf("tensor %q missing", in.Name)
		}
		if got.DType != in.DType || !reflect.DeepEqual(got.Shape, in.Shape) || !bytes.Equal(got.Data, in.Data) {
			t.Errorf("%s: got %s %v %x, want %s %v %x", in.Name, got.DType, got.Shape, got.Data, in.DType, in.Shape, in.Data)
		}
	}
	for name, w := range want {
		tn, _ := f.Tensor(name)
		got, err := tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Float32bits(got[i]) != math.Float32bits(w[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], w[i])
			}
		}
	}
	i8, _ := f.Tensor("i8")
	if v, err := i8.Int8s(); err != nil || !reflect.DeepEqual(v, []int8{-128, 0, 127}) {
		t.Errorf("Int8s = %v, %v", v, err)
	}
	u8, _ := f.Tensor("u8")
	if v, err := u8.Uint8s(); err != nil || !bytes.Equal(v, []byte{0, 0x55, 0xff}) {
		t.Errorf("Uint8s = %v, %v", v, err)
	}
	sc, _ := f.Tensor("scalar")
	if v, err := sc.Float32s(); err != nil || len(v) != 1 || v[0] != 42 {
		t.Errorf("scalar = %v, %v", v, err)
	}
	// Offsets are in data order: each tensor starts where the previous ended.
	var off uint64
	for _, tn := range f.Tensors {
		if tn.Offset != off {
			t.Errorf("%s at offset %d, want %d", tn.Name, tn.Offset, off)
		}
		off += uint64(len(tn.Data))
	}
}

func TestTypedReadsRejectOtherDTypes(t *testing.T) {
	header := `{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"U8","shape":[2],"data_offsets":[16,18]}}`
	f, err := Parse(rawFile(header, make([]byte, 18)))
	if err != nil {
		t.Fatalf("a file with an F64 tensor must parse so it can be listed: %v", err)
	}
	w, _ := f.Tensor("w")
	if _, err := w.Float32s(); !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), `"w"`) || !strings.Contains(err.Error(), "F64") {
		t.Errorf("Float32s on F64: %v", err)
	}
	if _, err := w.Int8s(); !errors.Is(err, ErrDType) {
		t.Errorf("Int8s on F64: %v", err)
	}
	b, _ := f.Tensor("b")
	if _, err := b.Float32s(); !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), "U8") {
		t.Errorf("Float32s on U8: %v", err)
	}
	if err := b.DecodeFloat32(make([]float32, 2)); !errors.Is(err, ErrDType) {
		t.Errorf("DecodeFloat32 on U8: %v", err)
	}
	if _, err := b.Int8s(); !errors.Is(err, ErrDType) {
		t.Errorf("Int8s on U8: %v", err)
	}
}

func TestDecodeFloat32ChecksLength(t *testing.T) {
	f, err := Parse(rawFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.Tensor("x")
	if err := x.DecodeFloat32(make([]float32, 3)); err == nil {
		t.Error("DecodeFloat32 into a slice of the wrong length succeeded")
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	ok := func(name, dtype, shape string, b, e int) string {
		return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":[` + strconv.Itoa(b) + `,` + strconv.Itoa(e) + `]}`
	}
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, MaxHeaderSize+1)
	beyond := make([]byte, 20)
	binary.LittleEndian.PutUint64(beyond, 13)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"seven bytes", []byte{2, 0, 0, 0, 0, 0, 0}, "too short"},
		{"header over limit", huge, "exceeds the limit"},
		{"header beyond file", beyond, "exceeds the 12 bytes"},
		{"header length ~2^64", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'}, "exceeds the limit"},
		{"header too short", rawFile("{", nil), "too short for a JSON object"},
		{"not an object", rawFile(`["x"]`, nil), "does not start"},
		{"invalid json", rawFile(`{"a":}`, nil), "tensor \"a\""},
		{"truncated json", rawFile(`{"a":{"dtype":"F32"`, nil), ErrFormat.Error()},
		{"invalid utf8", rawFile("{\"\xff\":1}", nil), "UTF-8"},
		{"trailing bytes", rawFile(`{}x`, nil), "after its JSON"},
		{"duplicate name", rawFile(`{`+ok("a", "U8", "[1]", 0, 1)+`,`+ok("a", "U8", "[1]", 1, 2)+`}`, make([]byte, 2)), "twice"},
		{"metadata not strings", rawFile(`{"__metadata__":{"n":1}}`, nil), "object of strings"},
		{"unknown dtype", rawFile(`{`+ok("w", "Q4", "[1]", 0, 1)+`}`, make([]byte, 1)), `unknown dtype "Q4"`},
		{"missing dtype", rawFile(`{"w":{"shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "no dtype"},
		{"field name case", rawFile(`{"w":{"DType":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "no dtype"},
		{"repeated field", rawFile(`{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "twice"},
		{"record not object", rawFile(`{"w":[1]}`, nil), "not an object"},
		{"missing shape", rawFile(`{"w":{"dtype":"U8","data_offsets":[0,1]}}`, make([]byte, 1)), "no shape"},
		{"negative dim", rawFile(`{`+ok("w", "U8", "[-1]", 0, 1)+`}`, make([]byte, 1)), `tensor "w"`},
		{"three offsets", rawFile(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, make([]byte, 2)), "begin, end"},
		{"begin after end", rawFile(`{`+ok("w", "U8", "[0]", 2, 1)+`}`, make([]byte, 2)), "after end"},
		{"end beyond data", rawFile(`{`+ok("w", "F32", "[2]", 0, 8)+`}`, make([]byte, 7)), "beyond the 7 data bytes"},
		{"size mismatch", rawFile(`{`+ok("w", "F32", "[3]", 0, 8)+`}`, make([]byte, 12)), "span 8 bytes"},
		{"shape overflow", rawFile(`{`+ok("w", "U8", "[4294967296,4294967296]", 0, 0)+`}`, nil), "overflows"},
		{"bytes overflow", rawFile(`{`+ok("w", "F64", "[2305843009213693952]", 0, 0)+`}`, nil), "span 0 bytes"},
		{"overlap", rawFile(`{`+ok("a", "F32", "[2]", 0, 8)+`,`+ok("b", "F32", "[1]", 4, 8)+`}`, make([]byte, 8)), "overlaps"},
		{"overlap after gap", rawFile(`{`+ok("a", "U8", "[8]", 0, 8)+`,`+ok("b", "U8", "[2]", 2, 4)+`,`+ok("c", "U8", "[0]", 5, 5)+`}`, make([]byte, 8)), "overlaps tensor \"a\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.file)
			if err == nil {
				t.Fatalf("parsed: %d tensors", len(f.Tensors))
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestParseAcceptsGapsPaddingAndZeroSizeTensors(t *testing.T) {
	header := `{"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},` +
		`"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}` + "    "
	f, err := Parse(rawFile(header, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "z", "b"}) {
		t.Errorf("tensor order %v, want data order [a z b]", names)
	}
	b, _ := f.Tensor("b")
	if !bytes.Equal(b.Data, []byte{7, 8}) {
		t.Errorf("b = %v", b.Data)
	}
	if cap(b.Data) != 2 {
		t.Errorf("view capacity %d lets appends overwrite the file", cap(b.Data))
	}
}
