package hf

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/safetensors"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// This file builds small random Hugging Face model directories of every
// family, written the way each family's checkpoints are, and the same
// weights written directly as GGUF by an independent path (the maths of
// DESIGN.md §4 and §6 restated here, not the package's code).

// spec describes a synthetic checkpoint.
type spec struct {
	family                                              Family
	hidden, ffn, layers, heads, kvHeads, headDim, vocab int
	ctx                                                 int
	act                                                 string // hidden_act
	theta, eps                                          float64
	tied                                                bool
	headDimKey                                          bool // write head_dim to config.json

	// quant is the quantization_config (nil for none).
	quant map[string]any
	// latent is the dtype of float master weights; empty for packed uint8.
	latent safetensors.DType
	// scaleDType is the dtype of weight_scale (packed only).
	scaleDType safetensors.DType
	// divides says weight_scale = 1/gamma (bitlinear) rather than gamma.
	divides bool
	// floatDType stores embeddings, norms and the lm head.
	floatDType safetensors.DType
	// subNormNames are the Hugging Face names of the attention and FFN
	// sub-norms (BitNet families).
	subNormNames [2]string
	shards       int
	seed         uint64
}

// synth is a generated model: the values the files hold and the ternary
// weights and scales the maths says they stand for.
type synth struct {
	spec
	embd, output, outNorm []float32 // output nil when tied
	layers                []synthLayer
}

type synthLayer struct {
	attnNorm, ffnNorm, attnSub, ffnSub []float32
	proj                               [7]synthProj
}

// projNames are the projections in GGUF and Hugging Face naming.
var projNames = [7][2]string{
	{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
	{"attn_output", "self_attn.o_proj"}, {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"},
	{"ffn_down", "mlp.down_proj"},
}

type synthProj struct {
	rows, cols int
	trits      []int8
	gamma      float32   // the per-tensor scale the weights stand for
	stored     float32   // weight_scale as stored (packed)
	latent     []float32 // master weights as stored (latent)
}

// roundTo returns v rounded to dtype's precision.
func roundTo(dt safetensors.DType, v float32) float32 {
	switch dt {
	case safetensors.F16:
		return kernels.F16ToF32(kernels.F32ToF16(v))
	case safetensors.BF16:
		return kernels.BF16ToF32(kernels.F32ToBF16(v))
	}
	return v
}

func (s spec) projShape(i int) (rows, cols int) {
	q, kv := s.heads*s.headDim, s.kvHeads*s.headDim
	shapes := [7][2]int{{q, s.hidden}, {kv, s.hidden}, {kv, s.hidden}, {s.hidden, q}, {s.ffn, s.hidden}, {s.ffn, s.hidden}, {s.hidden, s.ffn}}
	return shapes[i][0], shapes[i][1]
}

// generate makes random weights for s.
func generate(s spec) *synth {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	vals := func(n int, mean, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = roundTo(s.floatDType, float32(mean+std*rng.NormFloat64()))
		}
		return v
	}
	m := &synth{spec: s, embd: vals(s.vocab*s.hidden, 0, 1), outNorm: vals(s.hidden, 1, 0.1)}
	if !s.tied {
		m.output = vals(s.vocab*s.hidden, 0, 1/math.Sqrt(float64(s.hidden)))
	}
	for l := 0; l < s.layers; l++ {
		ly := synthLayer{
			attnNorm: vals(s.hidden, 1, 0.1), ffnNorm: vals(s.hidden, 1, 0.1),
			attnSub: vals(s.heads*s.headDim, 1, 0.1), ffnSub: vals(s.ffn, 1, 0.1),
		}
		for i := range ly.proj {
			rows, cols := s.projShape(i)
			p := synthProj{rows: rows, cols: cols, trits: make([]int8, rows*cols)}
			if s.latent != "" {
				p.latent = make([]float32, rows*cols)
				std := 0.5 / math.Sqrt(float64(cols))
				for j := range p.latent {
					p.latent[j] = roundTo(s.latent, float32(std*rng.NormFloat64()))
				}
				p.gamma, p.trits = absmean(p.latent)
			} else {
				for j := range p.trits {
					p.trits[j] = int8(rng.IntN(3)) - 1
				}
				// A scale of the size absmean gives weights of std
				// 1/sqrt(cols), stored as the class stores it.
				g := float32((0.6 + 0.4*rng.Float64()) / math.Sqrt(float64(cols)))
				if s.divides {
					p.stored = roundTo(s.scaleDType, 1/g)
					p.gamma = 1 / p.stored
				} else {
					p.stored = roundTo(s.scaleDType, g)
					p.gamma = p.stored
				}
			}
			ly.proj[i] = p
		}
		m.layers = append(m.layers, ly)
	}
	return m
}

// absmean is DESIGN.md §4's weight quantiser: gamma = max(mean|W|, 1e-5),
// W_t = clamp(round(W / gamma), -1, 1), halves rounded to even (torch.round).
func absmean(w []float32) (float32, []int8) {
	var sum float64
	for _, v := range w {
		sum += math.Abs(float64(v))
	}
	gamma := float32(math.Max(sum/float64(len(w)), 1e-5))
	t := make([]int8, len(w))
	for i, v := range w {
		t[i] = int8(math.Max(-1, math.Min(1, math.RoundToEven(float64(v)/float64(gamma)))))
	}
	return gamma, t
}

// pack stores ternary rows the way transformers' pack_weights does.
func pack(trits []int8, rows, cols int) []byte {
	q := rows / 4
	out := make([]byte, q*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[(r%q)*cols+c] |= byte(trits[r*cols+c]+1) << (2 * (r / q))
		}
	}
	return out
}

func encodeST(dt safetensors.DType, v []float32) []byte {
	switch dt {
	case safetensors.F16:
		return safetensors.EncodeF16(v)
	case safetensors.BF16:
		return safetensors.EncodeBF16(v)
	}
	return safetensors.EncodeF32(v)
}

// writeDir writes m as a Hugging Face directory and returns its path.
func (m *synth) writeDir(t testing.TB) string {
	t.Helper()
	return m.writeDirEdited(t, nil)
}

// edit changes a directory's config.json and tensors before they are
// written.
type edit func(cfg map[string]any, tensors []safetensors.TensorData) []safetensors.TensorData

// writeDirEdited writes m as a Hugging Face directory after applying ed.
func (m *synth) writeDirEdited(t testing.TB, ed edit) string {
	t.Helper()
	dir := t.TempDir()
	s := &m.spec
	cfg := map[string]any{
		"architectures":           []string{s.family.String()},
		"hidden_size":             s.hidden,
		"intermediate_size":       s.ffn,
		"num_hidden_layers":       s.layers,
		"num_attention_heads":     s.heads,
		"num_key_value_heads":     s.kvHeads,
		"vocab_size":              s.vocab,
		"max_position_embeddings": s.ctx,
		"rms_norm_eps":            s.eps,
		"rope_theta":              s.theta,
		"hidden_act":              s.act,
		"tie_word_embeddings":     s.tied,
		"rope_scaling":            nil,
		"torch_dtype":             "bfloat16",
	}
	if s.headDimKey {
		cfg["head_dim"] = s.headDim
	}
	if s.quant != nil {
		cfg["quantization_config"] = s.quant
	}
	writeTinyTokenizer(t, dir)

	shape := func(d ...int) []uint64 {
		out := make([]uint64, len(d))
		for i, v := range d {
			out[i] = uint64(v)
		}
		return out
	}
	var tensors []safetensors.TensorData
	add := func(name string, dt safetensors.DType, data []byte, dims ...int) {
		tensors = append(tensors, safetensors.TensorData{Name: name, DType: dt, Shape: shape(dims...), Data: data})
	}
	fl := s.floatDType
	add("model.embed_tokens.weight", fl, encodeST(fl, m.embd), s.vocab, s.hidden)
	add("model.norm.weight", fl, encodeST(fl, m.outNorm), s.hidden)
	if !s.tied {
		add("lm_head.weight", fl, encodeST(fl, m.output), s.vocab, s.hidden)
	}
	for l, ly := range m.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", fl, encodeST(fl, ly.attnNorm), s.hidden)
		add(p+"post_attention_layernorm.weight", fl, encodeST(fl, ly.ffnNorm), s.hidden)
		if s.family != LlamaBitNet {
			add(p+"self_attn."+s.subNormNames[0]+".weight", fl, encodeST(fl, ly.attnSub), s.heads*s.headDim)
			add(p+"mlp."+s.subNormNames[1]+".weight", fl, encodeST(fl, ly.ffnSub), s.ffn)
		}
		for i, pr := range ly.proj {
			name := p + projNames[i][1]
			if s.latent != "" {
				add(name+".weight", s.latent, encodeST(s.latent, pr.latent), pr.rows, pr.cols)
				continue
			}
			add(name+".weight", safetensors.U8, pack(pr.trits, pr.rows, pr.cols), pr.rows/4, pr.cols)
			add(name+".weight_scale", s.scaleDType, encodeST(s.scaleDType, []float32{pr.stored}), 1)
		}
	}
	if ed != nil {
		tensors = ed(cfg, tensors)
	}
	writeJSON(t, filepath.Join(dir, ConfigFileName), cfg)
	if s.shards > 1 {
		per := (len(tensors) + s.shards - 1) / s.shards
		var shards [][]safetensors.TensorData
		for i := 0; i < len(tensors); i += per {
			shards = append(shards, tensors[i:min(i+per, len(tensors))])
		}
		if err := safetensors.WriteSharded(dir, shards, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	} else if err := safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFileName), tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTinyTokenizer writes a byte-level BPE tokenizer.json: the 256 bytes,
// two merges and two special tokens.
func writeTinyTokenizer(t testing.TB, dir string) {
	t.Helper()
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[tokenizer.ByteLevelEncode(string([]byte{byte(b)}))] = b
	}
	vocab["Ġt"], vocab["he"] = 256, 257
	writeJSON(t, filepath.Join(dir, TokenizerJSON), map[string]any{
		"version": "1.0",
		"added_tokens": []map[string]any{
			{"id": 258, "content": "<|begin_of_text|>", "special": true},
			{"id": 259, "content": "<|end_of_text|>", "special": true},
		},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{"Ġ t", "h e"}},
	})
}

// ggufArchOf is the architecture the hand-written file uses.
func (s *spec) ggufArchOf() string {
	switch {
	case s.family == LlamaBitNet:
		return "llama"
	case s.family == BitNet && s.act == "relu2":
		return "bitnet-b1.58"
	}
	return "bitnet"
}

// writeGGUF writes the same weights directly as a GGUF file with
// projections of type projType, floats in their stored type, and Q/K
// permuted for "llama" (rows (i, i+d/2) of each head become (2i, 2i+1)).
func (m *synth) writeGGUF(t testing.TB, projType kernels.Type) string {
	t.Helper()
	s := &m.spec
	arch := s.ggufArchOf()
	w := gguf.NewWriter()
	w.AddKV("general.architecture", arch)
	k := func(n string) string { return arch + "." + n }
	w.AddKV(k("vocab_size"), uint32(s.vocab))
	w.AddKV(k("context_length"), uint32(s.ctx))
	w.AddKV(k("embedding_length"), uint32(s.hidden))
	w.AddKV(k("feed_forward_length"), uint32(s.ffn))
	w.AddKV(k("block_count"), uint32(s.layers))
	w.AddKV(k("attention.head_count"), uint32(s.heads))
	w.AddKV(k("attention.head_count_kv"), uint32(s.kvHeads))
	w.AddKV(k("attention.key_length"), uint32(s.headDim))
	w.AddKV(k("attention.layer_norm_rms_epsilon"), float32(s.eps))
	w.AddKV(k("rope.freq_base"), float32(s.theta))
	w.AddKV(k("rope.dimension_count"), uint32(s.headDim))
	if s.act == "relu2" && arch != "bitnet-b1.58" {
		w.AddKV(k("hidden_activation"), "relu2")
	}
	ft := map[safetensors.DType]kernels.Type{safetensors.F32: kernels.F32, safetensors.F16: kernels.F16, safetensors.BF16: kernels.BF16}[s.floatDType]
	if projType == kernels.F16 { // an all-fp16 file
		ft = kernels.F16
	}
	mat := func(name string, typ kernels.Type, v []float32, rows, cols int) {
		data, err := kernels.Encode(typ, v, cols)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w.AddTensor(name, typ, []uint64{uint64(cols), uint64(rows)}, data)
	}
	vec := func(name string, v []float32) {
		data, _ := kernels.Encode(kernels.F32, v, len(v))
		w.AddTensor(name, kernels.F32, []uint64{uint64(len(v))}, data)
	}
	mat("token_embd.weight", ft, m.embd, s.vocab, s.hidden)
	vec("output_norm.weight", m.outNorm)
	if !s.tied {
		mat("output.weight", ft, m.output, s.vocab, s.hidden)
	}
	for l, ly := range m.layers {
		p := fmt.Sprintf("blk.%d.", l)
		vec(p+"attn_norm.weight", ly.attnNorm)
		vec(p+"ffn_norm.weight", ly.ffnNorm)
		if s.family != LlamaBitNet {
			vec(p+"attn_sub_norm.weight", ly.attnSub)
			vec(p+"ffn_sub_norm.weight", ly.ffnSub)
		}
		for i, pr := range ly.proj {
			v := make([]float32, len(pr.trits))
			for j, tr := range pr.trits {
				v[j] = float32(tr) * pr.gamma
			}
			if arch == "llama" && i < 2 {
				v = permuteRows(v, pr.rows, pr.cols, s.headDim)
			}
			mat(p+projNames[i][0]+".weight", projType, v, pr.rows, pr.cols)
		}
	}
	path := filepath.Join(t.TempDir(), "hand.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// permuteRows reorders each head's rows as llama.cpp's converter does.
func permuteRows(v []float32, rows, cols, hd int) []float32 {
	out := make([]float32, len(v))
	for h := 0; h < rows/hd; h++ {
		for i := 0; i < hd/2; i++ {
			copy(out[(h*hd+2*i)*cols:], v[(h*hd+i)*cols:(h*hd+i+1)*cols])
			copy(out[(h*hd+2*i+1)*cols:], v[(h*hd+i+hd/2)*cols:(h*hd+i+hd/2+1)*cols])
		}
	}
	return out
}

// testSeq is the token sequence every comparison runs.
var testSeq = []int{3, 17, 250, 4, 99, 123, 7, 42, 0, 5, 288}

// logits runs seq teacher-forced and returns the logits of every position.
func logits(t testing.TB, m *model.Model) []float32 {
	t.Helper()
	out := make([]float32, len(testSeq)*m.Config.VocabSize)
	if err := m.NewSession().Forward(context.Background(), testSeq, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// maxDiff returns max |a - b| (infinite for NaN or a length mismatch).
func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		x := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(x) {
			return math.Inf(1)
		}
		d = math.Max(d, x)
	}
	return d
}

// maxAbs returns max |a|.
func maxAbs(a []float32) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}
