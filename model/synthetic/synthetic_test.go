package synthetic

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

var tiny = Shape{Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 300, Context: 64}

func TestWeightsAreTernaryTimesScale(t *testing.T) {
	for _, wt := range []kernels.Type{kernels.TQ2_0, kernels.TQ1_0, kernels.I2_S} {
		path := filepath.Join(t.TempDir(), "m.gguf")
		if err := Write(path, Options{Shape: tiny, WeightType: wt, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		tn, ok := f.Tensor("blk.1.ffn_down.weight")
		if !ok || tn.Type != wt || tn.Dims[0] != uint64(tiny.FFN) || tn.Dims[1] != uint64(tiny.Hidden) {
			t.Fatalf("%v: ffn_down %+v", wt, tn)
		}
		m, err := kernels.NewMatrix(tn.Type, tiny.Hidden, tiny.FFN, tn.Data)
		if err != nil {
			t.Fatal(err)
		}
		want := kernels.F16ToF32(kernels.F32ToF16(float32(1 / math.Sqrt(float64(tiny.FFN)))))
		count := map[float32]int{}
		for _, v := range m.Dequantize() {
			count[v]++
		}
		if len(count) != 3 || count[want] == 0 || count[-want] == 0 || count[0] == 0 {
			t.Fatalf("%v: values %v, want {-s, 0, s} with s = %v", wt, count, want)
		}
		// Each value is about equally likely.
		n := float64(tiny.Hidden * tiny.FFN)
		for v, c := range count {
			if math.Abs(float64(c)/n-1.0/3) > 0.01 {
				t.Errorf("%v: value %v has frequency %.3f", wt, v, float64(c)/n)
			}
		}
		f.Close()
	}
}

func TestSeedReproduces(t *testing.T) {
	write := func(seed uint64) []byte {
		w, err := NewWriter(Options{Shape: tiny, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := write(3), write(3), write(4)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("same seed equal: %v, other seed differs: %v", bytes.Equal(a, b), !bytes.Equal(a, c))
	}
}

func TestRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Shape: tiny, WeightType: kernels.F16},
		{Shape: tiny, EmbedType: kernels.TQ2_0},
		{Shape: Shape{Hidden: 250, FFN: 512, Layers: 1, Heads: 4, KVHeads: 2, Vocab: 300, Context: 8}},
		{Shape: Shape{Hidden: 256, FFN: 512, Layers: 1, Heads: 4, KVHeads: 3, Vocab: 300, Context: 8}},
	} {
		if _, err := NewWriter(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestGPT2ByteRunes(t *testing.T) {
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := gpt2ByteRune(byte(b))
		if seen[r] {
			t.Fatalf("byte %d maps to %q twice", b, r)
		}
		seen[r] = true
	}
	if gpt2ByteRune(' ') != 'Ġ' || gpt2ByteRune('\n') != 'Ċ' || gpt2ByteRune('A') != 'A' {
		t.Fatalf("space %q newline %q", gpt2ByteRune(' '), gpt2ByteRune('\n'))
	}
}
