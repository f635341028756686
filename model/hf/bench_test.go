package hf

import (
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/safetensors"
)

// BenchmarkOpen measures preparing two layers of BitNet b1.58 2B4T's shape
// (hidden 2560, FFN 6912, 20 heads, 5 KV heads) for the engine, from packed
// weights and from bf16 master weights. Bytes are those of the ternary
// weights read.
func BenchmarkOpen(b *testing.B) {
	s := families()["BitNetForCausalLM-packed"]
	s.hidden, s.ffn, s.heads, s.kvHeads, s.headDim, s.layers, s.vocab = 2560, 6912, 20, 5, 128, 2, 1024
	packed := s
	masters := s
	masters.latent = safetensors.BF16
	masters.quant = map[string]any{"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "online"}
	for _, c := range []struct {
		name string
		s    spec
	}{{"packed", packed}, {"bf16", masters}} {
		dir := generate(c.s).writeDir(b)
		weights := 0
		for i := range 7 {
			r, cols := c.s.projShape(i)
			weights += r * cols * c.s.layers
		}
		for _, typ := range []kernels.Type{kernels.I2_S, kernels.TQ2_0} {
			b.Run(c.name+"-"+typ.String(), func(b *testing.B) {
				b.SetBytes(int64(weights))
				for b.Loop() {
					d, err := Open(dir, Options{Ternary: typ})
					if err != nil {
						b.Fatal(err)
					}
					d.Close()
				}
			})
		}
	}
}
