package safetensors

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// The scalar fp16/bf16 conversions are kernels' and tested there; these tests
// check that tensors decode and encode every bit pattern through them.

// everyPattern returns a tensor of dtype dt holding all 65536 16-bit patterns.
func everyPattern(dt DType) *Tensor {
	data := make([]byte, 2<<16)
	for i := 0; i < 1<<16; i++ {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(i))
	}
	return &Tensor{Name: "all", DType: dt, Shape: []uint64{1 << 16}, Data: data}
}

func TestDecodeEveryHalfPattern(t *testing.T) {
	for _, c := range []struct {
		dt     DType
		decode func(uint16) float32
		encode func([]float32) []byte
	}{
		{F16, kernels.F16ToF32, EncodeF16},
		{BF16, kernels.BF16ToF32, EncodeBF16},
	} {
		tn := everyPattern(c.dt)
		got, err := tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			want := c.decode(uint16(i))
			if math.Float32bits(v) != math.Float32bits(want) && !(v != v && want != want) {
				t.Fatalf("%s pattern %#04x decoded as %v, want %v", c.dt, i, v, want)
			}
		}
		// Encoding the decoded values gives the patterns back (NaNs stay NaN).
		back := c.encode(got)
		for i := 0; i < 1<<16; i++ {
			h := binary.LittleEndian.Uint16(back[2*i:])
			if got[i] != got[i] {
				if d := c.decode(h); d == d {
					t.Fatalf("%s NaN %#04x encoded as non-NaN %#04x", c.dt, i, h)
				}
				continue
			}
			if h != uint16(i) {
				t.Fatalf("%s pattern %#04x round-tripped to %#04x", c.dt, i, h)
			}
		}
	}
}

func TestEncodeRoundsToNearestEven(t *testing.T) {
	f16 := EncodeF16([]float32{1 + 0x1p-11, 1 + 3*0x1p-11, 65520})
	for i, want := range []uint16{0x3c00, 0x3c02, 0x7c00} {
		if h := binary.LittleEndian.Uint16(f16[2*i:]); h != want {
			t.Errorf("EncodeF16 value %d = %#04x, want %#04x", i, h, want)
		}
	}
	bf16 := EncodeBF16([]float32{math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000)})
	for i, want := range []uint16{0x3f80, 0x3f82} {
		if h := binary.LittleEndian.Uint16(bf16[2*i:]); h != want {
			t.Errorf("EncodeBF16 value %d = %#04x, want %#04x", i, h, want)
		}
	}
}

func BenchmarkDecodeF16(b *testing.B) {
	benchmarkDecode(b, F16)
}

func BenchmarkDecodeBF16(b *testing.B) {
	benchmarkDecode(b, BF16)
}

func benchmarkDecode(b *testing.B, dt DType) {
	const n = 1 << 20
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i%2000)*0.01 - 10
	}
	var data []byte
	if dt == F16 {
		data = EncodeF16(src)
	} else {
		data = EncodeBF16(src)
	}
	tn := &Tensor{Name: "x", DType: dt, Shape: []uint64{n}, Data: data}
	dst := make([]float32, n)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := tn.DecodeFloat32(dst); err != nil {
			b.Fatal(err)
		}
	}
}
