// Package synthetic writes random-weight BitNet b1.58 models as GGUF files,
// for benchmarks and tests that need the exact shape of a real model (such
// as BitNet b1.58 2B4T) without downloading it. Projections are random
// ternary matrices times one scale per tensor, generated directly in their
// encoded form, so even a 2B-parameter file takes seconds to write.
package synthetic

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// Shape is the size of a model.
type Shape struct {
	Hidden, FFN, Layers, Heads, KVHeads, Vocab, Context int
}

// Shape2B4T is the shape of Microsoft's BitNet b1.58 2B4T.
var Shape2B4T = Shape{Hidden: 2560, FFN: 6912, Layers: 30, Heads: 20, KVHeads: 5, Vocab: 128256, Context: 4096}

// Options describe the model to write. The zero values of the types choose
// TQ2_0 projections and F16 embeddings.
type Options struct {
	Shape
	// WeightType encodes the projections: TQ2_0 (default), TQ1_0 or I2_S.
	WeightType kernels.Type
	// EmbedType encodes the tied token embeddings: F16 (default) or F32.
	EmbedType kernels.Type
	// Seed makes the weights reproducible.
	Seed uint64
}

// Presets are named shapes for the command line.
var Presets = map[string]Shape{
	"2b4t": Shape2B4T,
	"tiny": {Hidden: 256, FFN: 768, Layers: 4, Heads: 4, KVHeads: 2, Vocab: 1024, Context: 256},
}

// Write writes the model to path atomically.
func Write(path string, o Options) error {
	w, err := NewWriter(o)
	if err != nil {
		return err
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("write synthetic model %s: %w", path, err)
	}
	return nil
}

// NewWriter prepares a GGUF writer holding the model; tensors are generated
// while it writes.
func NewWriter(o Options) (*gguf.Writer, error) {
	if o.WeightType == 0 {
		o.WeightType = kernels.TQ2_0
	}
	if o.EmbedType == 0 {
		o.EmbedType = kernels.F16
	}
	if !o.WeightType.Ternary() {
		return nil, fmt.Errorf("synthetic weights must be ternary, not %v", o.WeightType)
	}
	if o.EmbedType != kernels.F16 && o.EmbedType != kernels.F32 {
		return nil, fmt.Errorf("synthetic embeddings must be F16 or F32, not %v", o.EmbedType)
	}
	s := o.Shape
	if s.Hidden <= 0 || s.FFN <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.Vocab < 256 || s.Context <= 0 ||
		s.Hidden%s.Heads != 0 || s.Heads%s.KVHeads != 0 {
		return nil, fmt.Errorf("invalid synthetic shape %+v", s)
	}
	headDim := s.Hidden / s.Heads
	const arch = "bitnet-b1.58"
	w := gguf.NewWriter()
	w.AddKV("general.architecture", arch)
	w.AddKV("general.name", "synthetic random-weight BitNet b1.58")
	w.AddKV(arch+".vocab_size", uint32(s.Vocab))
	w.AddKV(arch+".context_length", uint32(s.Context))
	w.AddKV(arch+".embedding_length", uint32(s.Hidden))
	w.AddKV(arch+".feed_forward_length", uint32(s.FFN))
	w.AddKV(arch+".block_count", uint32(s.Layers))
	w.AddKV(arch+".attention.head_count", uint32(s.Heads))
	w.AddKV(arch+".attention.head_count_kv", uint32(s.KVHeads))
	w.AddKV(arch+".attention.layer_norm_rms_epsilon", float32(1e-5))
	w.AddKV(arch+".rope.freq_base", float32(500000))
	w.AddKV(arch+".rope.dimension_count", uint32(headDim))
	addByteTokenizer(w, s.Vocab)

	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	embStd := 3 / math.Sqrt(float64(s.Hidden))
	w.AddTensorFunc("token_embd.weight", o.EmbedType, dims(s.Hidden, s.Vocab), func(out io.Writer) error {
		return writeGaussian(out, o.EmbedType, s.Vocab*s.Hidden, embStd, rng)
	})
	norm := func(name string, n int) {
		w.AddTensorFunc(name, kernels.F32, dims(n), func(out io.Writer) error {
			return writeNorm(out, n, rng)
		})
	}
	proj := func(name string, rows, cols int) {
		w.AddTensorFunc(name, o.WeightType, dims(cols, rows), func(out io.Writer) error {
			// A scale exactly representable in fp16, about 1/sqrt(cols).
			scale := kernels.F16ToF32(kernels.F32ToF16(float32(1 / math.Sqrt(float64(cols)))))
			return writeTernary(out, o.WeightType, rows*cols, scale, rng)
		})
	}
	norm("output_norm.weight", s.Hidden)
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		norm(p+"attn_norm.weight", s.Hidden)
		norm(p+"attn_sub_norm.weight", s.Hidden)
		norm(p+"ffn_norm.weight", s.Hidden)
		norm(p+"ffn_sub_norm.weight", s.FFN)
		kv := s.KVHeads * headDim
		proj(p+"attn_q.weight", s.Hidden, s.Hidden)
		proj(p+"attn_k.weight", kv, s.Hidden)
		proj(p+"attn_v.weight", kv, s.Hidden)
		proj(p+"attn_output.weight", s.Hidden, s.Hidden)
		proj(p+"ffn_gate.weight", s.FFN, s.Hidden)
		proj(p+"ffn_up.weight", s.FFN, s.Hidden)
		proj(p+"ffn_down.weight", s.Hidden, s.FFN)
	}
	return w, nil
}

func dims(d ...int) []uint64 {
	out := make([]uint64, len(d))
	for i, x := range d {
		out[i] = uint64(x)
	}
	return out
}

// addByteTokenizer stores a byte-level BPE vocabulary without merges: the 256
// byte tokens in GPT-2's spelling, reserved tokens up to vocab, and BOS/EOS.
func addByteTokenizer(w *gguf.Writer, vocab int) {
	tokens := make([]string, vocab)
	types := make([]int32, vocab)
	for b := 0; b < 256; b++ {
		tokens[b] = string(gpt2ByteRune(byte(b)))
		types[b] = 1
	}
	for i := 256; i < vocab; i++ {
		tokens[i] = fmt.Sprintf("<|reserved_%d|>", i)
		types[i] = 3
	}
	tokens[vocab-2], tokens[vocab-1] = "<|begin_of_text|>", "<|end_of_text|>"
	w.AddKV("tokenizer.ggml.model", "gpt2")
	w.AddKV("tokenizer.ggml.pre", "llama-bpe")
	w.AddKV("tokenizer.ggml.tokens", tokens)
	w.AddKV("tokenizer.ggml.token_type", types)
	w.AddKV("tokenizer.ggml.merges", []string{})
	w.AddKV("tokenizer.ggml.bos_token_id", uint32(vocab-2))
	w.AddKV("tokenizer.ggml.eos_token_id", uint32(vocab-1))
	w.AddKV("tokenizer.ggml.add_bos_token", true)
}

// gpt2ByteRune is GPT-2's printable spelling of a byte.
func gpt2ByteRune(b byte) rune {
	switch {
	case b >= '!' && b <= '~', b >= 0xA1 && b <= 0xAC, b >= 0xAE:
		return rune(b)
	}
	// The remaining bytes map, in order, to U+0100 onwards.
	n := 0
	for c := 0; c < int(b); c++ {
		cb := byte(c)
		if !(cb >= '!' && cb <= '~' || cb >= 0xA1 && cb <= 0xAC || cb >= 0xAE) {
			n++
		}
	}
	return rune(0x100 + n)
}

// chunkWriter buffers generated bytes in 1 MiB chunks.
type chunkWriter struct {
	out io.Writer
	buf []byte
}

func newChunkWriter(out io.Writer) *chunkWriter {
	return &chunkWriter{out: out, buf: make([]byte, 0, 1<<20)}
}

func (c *chunkWriter) room(n int) error {
	if len(c.buf)+n > cap(c.buf) {
		return c.flush()
	}
	return nil
}

func (c *chunkWriter) flush() error {
	_, err := c.out.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

func writeGaussian(out io.Writer, t kernels.Type, n int, std float64, rng *rand.Rand) error {
	cw := newChunkWriter(out)
	for i := 0; i < n; i++ {
		if err := cw.room(4); err != nil {
			return err
		}
		v := float32(rng.NormFloat64() * std)
		if t == kernels.F16 {
			cw.buf = binary.LittleEndian.AppendUint16(cw.buf, kernels.F32ToF16(v))
		} else {
			cw.buf = binary.LittleEndian.AppendUint32(cw.buf, math.Float32bits(v))
		}
	}
	return cw.flush()
}

func writeNorm(out io.Writer, n int, rng *rand.Rand) error {
	cw := newChunkWriter(out)
	for i := 0; i < n; i++ {
		if err := cw.room(4); err != nil {
			return err
		}
		cw.buf = binary.LittleEndian.AppendUint32(cw.buf, math.Float32bits(float32(1+0.1*rng.NormFloat64())))
	}
	return cw.flush()
}

// writeTernary writes n random ternary weights (each value equally likely)
// times scale in encoding t, generating the packed bytes directly.
func writeTernary(out io.Writer, t kernels.Type, n int, scale float32, rng *rand.Rand) error {
	cw := newChunkWriter(out)
	d := kernels.F32ToF16(scale)
	// randCodes returns a byte of four uniform codes in {0, 1, 2}, 2 bits each.
	randCodes := func() byte { return packed4[rng.IntN(81)] }
	switch t {
	case kernels.TQ2_0:
		for blk := 0; blk < n/kernels.QK_K; blk++ {
			if err := cw.room(66); err != nil {
				return err
			}
			for i := 0; i < 64; i++ {
				cw.buf = append(cw.buf, randCodes())
			}
			cw.buf = binary.LittleEndian.AppendUint16(cw.buf, d)
		}
	case kernels.TQ1_0:
		for blk := 0; blk < n/kernels.QK_K; blk++ {
			if err := cw.room(54); err != nil {
				return err
			}
			for i := 0; i < 48; i++ {
				v := rng.IntN(243) // five digits
				cw.buf = append(cw.buf, byte((v*256+242)/243))
			}
			for i := 0; i < 4; i++ {
				v := rng.IntN(81) * 3 // four digits, the fifth zero
				cw.buf = append(cw.buf, byte((v*256+242)/243))
			}
			cw.buf = binary.LittleEndian.AppendUint16(cw.buf, d)
		}
	case kernels.I2_S:
		for i := 0; i < n/4; i++ {
			if err := cw.room(1); err != nil {
				return err
			}
			cw.buf = append(cw.buf, randCodes())
		}
		if err := cw.room(kernels.I2STrailer); err != nil {
			return err
		}
		cw.buf = binary.LittleEndian.AppendUint32(cw.buf, math.Float32bits(scale))
		cw.buf = append(cw.buf, make([]byte, kernels.I2STrailer-4)...)
	default:
		return fmt.Errorf("unsupported ternary type %v", t)
	}
	return cw.flush()
}

// packed4 lists the 81 bytes that hold four codes in {0, 1, 2} at 2 bits each.
var packed4 = func() (t [81]byte) {
	for v := range t {
		x := v
		for i := 0; i < 4; i++ {
			t[v] |= byte(x%3) << (2 * i)
			x /= 3
		}
	}
	return t
}()
