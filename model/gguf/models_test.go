package gguf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/golden"
)

// modelCase is the part of a golden case.json (testdata README §1) these
// tests check the GGUF files against. Every expectation comes from it, so
// cases of other shapes, types and arithmetic are checked as well.
type modelCase struct {
	Model struct {
		Arch         string `json:"arch"`
		WeightType   string `json:"weight_type"`
		WeightTypeID uint32 `json:"weight_ggml_type_id"`
		EmbedType    string `json:"embedding_type"`
		ScaleTensors bool   `json:"scale_tensors"`
		Shape        struct {
			Hidden  int `json:"hidden"`
			FFN     int `json:"ffn"`
			Layers  int `json:"layers"`
			Heads   int `json:"heads"`
			KVHeads int `json:"kv_heads"`
			HeadDim int `json:"head_dim"`
			Vocab   int `json:"vocab"`
			Ctx     int `json:"ctx"`
		} `json:"shape"`
		Rope struct {
			Type  string  `json:"type"`
			Theta float64 `json:"theta"`
			Dim   int     `json:"dim"`
		} `json:"rope"`
		RMSEps              float64 `json:"rms_eps"`
		TiedEmbeddings      *bool   `json:"tied_embeddings"`
		OutputWeightPresent bool    `json:"output_weight_present"`
		Weights             struct {
			PerTensorScale map[string]float64 `json:"per_tensor_scale"`
		} `json:"weights"`
	} `json:"model"`
}

// typeByName maps case.json's type names ("f32", "bf16", "q8_0", "q6_k",
// "tq2_0", "i2_s", ...) to GGML types: every type the kernels support, by
// its lower-case name.
var typeByName = func() map[string]kernels.Type {
	m := map[string]kernels.Type{}
	for _, t := range kernels.SupportedTypes() {
		m[strings.ToLower(t.String())] = t
	}
	return m
}()

// archGraph is what each architecture implies about the file (DESIGN.md
// §3, README "Models and arithmetic"): sub-norms and the RoPE pairing.
var archGraph = map[string]struct {
	subNorms bool
	rope     string
}{
	"bitnet":       {true, "neox"},
	"bitnet-b1.58": {true, "neox"},
	"bitnet-25":    {true, "neox"},
	"llama":        {false, "norm"},
}

// projections are the ternary projections of every block.
var projections = []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}

// TestGoldenModelFiles parses every ../shared/testdata/models/*/model.gguf
// and checks its tensors against the testdata README §1.1: names, count,
// types and shapes, and where each per-tensor scale is stored.
func TestGoldenModelFiles(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(golden.SharedDir(t), "testdata", "models", "*", "model.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skip("no model.gguf under ../shared/testdata/models")
	}
	for _, path := range paths {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c modelCase
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			checkGoldenModel(t, f, &c)
		})
	}
}

func checkGoldenModel(t *testing.T, f *File, c *modelCase) {
	s := c.Model.Shape
	arch := c.Model.Arch
	if f.Architecture() != arch {
		t.Errorf("general.architecture = %q, want %q", f.Architecture(), arch)
	}
	graph, ok := archGraph[arch]
	if !ok {
		t.Fatalf("case architecture %q is not one bitnet runs", arch)
	}
	if c.Model.Rope.Type != graph.rope {
		t.Errorf("case RoPE type %q, but architecture %s pairs %s", c.Model.Rope.Type, arch, graph.rope)
	}
	for key, want := range map[string]int{
		"vocab_size": s.Vocab, "context_length": s.Ctx, "embedding_length": s.Hidden,
		"feed_forward_length": s.FFN, "block_count": s.Layers, "attention.head_count": s.Heads,
		"attention.head_count_kv": s.KVHeads,
	} {
		if got, ok := f.Int(arch + "." + key); !ok || got != int64(want) {
			t.Errorf("%s.%s = %d (present %v), want %d", arch, key, got, ok, want)
		}
	}
	// Keys that may be absent have the defaults the engine applies.
	optional := func(key string, def, want int) {
		got, ok := f.Int(arch + "." + key)
		if !ok {
			got = int64(def)
		}
		if got != int64(want) {
			t.Errorf("%s.%s = %d (present %v), want %d", arch, key, got, ok, want)
		}
	}
	optional("attention.key_length", s.Hidden/s.Heads, s.HeadDim)
	optional("rope.dimension_count", s.HeadDim, c.Model.Rope.Dim)
	if theta, ok := f.Float(arch + ".rope.freq_base"); !ok || float32(theta) != float32(c.Model.Rope.Theta) {
		t.Errorf("rope.freq_base = %v (present %v), want %v", theta, ok, c.Model.Rope.Theta)
	}
	if eps, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); !ok || float32(eps) != float32(c.Model.RMSEps) {
		t.Errorf("rms epsilon = %v (present %v), want %v", eps, ok, c.Model.RMSEps)
	}
	if tied := c.Model.TiedEmbeddings; tied != nil && *tied == c.Model.OutputWeightPresent {
		t.Errorf("case.json: tied_embeddings %v with output_weight_present %v", *tied, c.Model.OutputWeightPresent)
	}

	wt, ok := typeByName[c.Model.WeightType]
	et, ok2 := typeByName[c.Model.EmbedType]
	if !ok || !ok2 || uint32(wt) != c.Model.WeightTypeID {
		t.Fatalf("case weight type %q (id %d), embedding type %q", c.Model.WeightType, c.Model.WeightTypeID, c.Model.EmbedType)
	}
	kvDim := uint64(s.KVHeads * s.HeadDim)
	qDim := uint64(s.Heads * s.HeadDim)
	h, ffn := uint64(s.Hidden), uint64(s.FFN)
	type spec struct {
		typ      kernels.Type
		dims     []uint64
		anyFloat bool // any non-ternary type (the lm head's type is not in case.json)
	}
	want := map[string]spec{
		"token_embd.weight":  {typ: et, dims: []uint64{h, uint64(s.Vocab)}},
		"output_norm.weight": {typ: kernels.F32, dims: []uint64{h}},
	}
	if c.Model.OutputWeightPresent {
		want["output.weight"] = spec{dims: []uint64{h, uint64(s.Vocab)}, anyFloat: true}
	}
	projDims := map[string][]uint64{
		"attn_q": {h, qDim}, "attn_output": {qDim, h}, "attn_k": {h, kvDim}, "attn_v": {h, kvDim},
		"ffn_gate": {h, ffn}, "ffn_up": {h, ffn}, "ffn_down": {ffn, h},
	}
	perLayer := 2 + len(projections)
	if graph.subNorms {
		perLayer += 2
	}
	if c.Model.ScaleTensors {
		perLayer += len(projections)
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		want[p+"attn_norm.weight"] = spec{typ: kernels.F32, dims: []uint64{h}}
		want[p+"ffn_norm.weight"] = spec{typ: kernels.F32, dims: []uint64{h}}
		if graph.subNorms {
			want[p+"attn_sub_norm.weight"] = spec{typ: kernels.F32, dims: []uint64{qDim}}
			want[p+"ffn_sub_norm.weight"] = spec{typ: kernels.F32, dims: []uint64{ffn}}
		}
		for _, proj := range projections {
			want[p+proj+".weight"] = spec{typ: wt, dims: projDims[proj]}
			if c.Model.ScaleTensors {
				want[p+proj+".scale"] = spec{typ: kernels.F32, dims: []uint64{1}}
			}
		}
	}
	n := 2 + perLayer*s.Layers
	if c.Model.OutputWeightPresent {
		n++
	}
	if len(f.Tensors) != n || len(want) != n {
		t.Errorf("%d tensors, want 2 + %d per layer x %d layers (+1 with output.weight) = %d", len(f.Tensors), perLayer, s.Layers, n)
	}
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		w, ok := want[tn.Name]
		if !ok {
			t.Errorf("unexpected tensor %q", tn.Name)
			continue
		}
		typeOK := tn.Type == w.typ || (w.anyFloat && !tn.Type.Ternary())
		if !typeOK || !reflect.DeepEqual(tn.Dims, w.dims) {
			t.Errorf("%s: %v %v, want %v %v", tn.Name, tn.Type, tn.Dims, w.typ, w.dims)
		}
		size, _ := kernels.TensorBytes(tn.Type, tn.Dims[0], tn.Elems())
		if uint64(len(tn.Data)) != size {
			t.Errorf("%s: %d data bytes, want %d", tn.Name, len(tn.Data), size)
		}
	}
	for name := range want {
		if _, ok := f.Tensor(name); !ok {
			t.Errorf("missing tensor %q", name)
		}
	}
	if _, ok := f.Tensor("output.weight"); ok != c.Model.OutputWeightPresent {
		t.Errorf("output.weight present %v, case.json says %v", ok, c.Model.OutputWeightPresent)
	}

	// Where each per-tensor scale s lives (README §1.1).
	for name, sc := range c.Model.Weights.PerTensorScale {
		tn, ok := f.Tensor(name)
		if !ok {
			t.Errorf("case.json scale for missing tensor %q", name)
			continue
		}
		var got float64
		switch {
		case c.Model.ScaleTensors: // pure T in the matrix, s in the .scale tensor
			st, ok := f.Tensor(name[:len(name)-len("weight")] + "scale")
			if !ok {
				t.Errorf("%s: no .scale tensor", name)
				continue
			}
			got = float64(math.Float32frombits(binary.LittleEndian.Uint32(st.Data)))
			if d := blockScale(tn); d != 0 && d != 1 {
				t.Errorf("%s: block scale %v, want 1 (the scale is in the .scale tensor)", name, d)
			}
		case tn.Type == kernels.I2_S: // one f32 after the n/4 code bytes
			got = float64(math.Float32frombits(binary.LittleEndian.Uint32(tn.Data[tn.Elems()/4:])))
		case tn.Type.Ternary(): // the fp16 d of the first nonzero block
			got = float64(blockScale(tn))
		default:
			continue // float weights hold s*T directly
		}
		if got != sc {
			t.Errorf("%s: stored scale %v, want %v", name, got, sc)
		}
	}
}

// blockScale returns the fp16 scale of the first TQ block whose scale is not
// zero (an all-zero block has d = 0).
func blockScale(tn *Tensor) float32 {
	bb := tn.Type.BlockBytes()
	for off := 0; off+bb <= len(tn.Data); off += bb {
		if d := kernels.F16ToF32(binary.LittleEndian.Uint16(tn.Data[off+bb-2:])); d != 0 {
			return d
		}
	}
	return 0
}
