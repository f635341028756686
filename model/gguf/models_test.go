package gguf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/golden"
)

// modelCase is the part of a golden case.json (testdata README §1) these
// tests check the GGUF files against.
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
		Weights struct {
			PerTensorScale map[string]float64 `json:"per_tensor_scale"`
		} `json:"weights"`
	} `json:"model"`
}

var typeByName = map[string]kernels.Type{
	"f32": kernels.F32, "f16": kernels.F16, "tq1_0": kernels.TQ1_0, "tq2_0": kernels.TQ2_0, "i2_s": kernels.I2_S,
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
	for key, want := range map[string]int{
		"vocab_size": s.Vocab, "context_length": s.Ctx, "embedding_length": s.Hidden,
		"feed_forward_length": s.FFN, "block_count": s.Layers, "attention.head_count": s.Heads,
		"attention.head_count_kv": s.KVHeads, "rope.dimension_count": s.HeadDim,
	} {
		if got, ok := f.Int(arch + "." + key); !ok || got != int64(want) {
			t.Errorf("%s.%s = %d (present %v), want %d", arch, key, got, ok, want)
		}
	}
	if eps, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); !ok || float32(eps) != float32(1e-5) {
		t.Errorf("rms epsilon = %v (present %v)", eps, ok)
	}

	wt, ok := typeByName[c.Model.WeightType]
	et, ok2 := typeByName[c.Model.EmbedType]
	if !ok || !ok2 || uint32(wt) != c.Model.WeightTypeID {
		t.Fatalf("case weight type %q (id %d), embedding type %q", c.Model.WeightType, c.Model.WeightTypeID, c.Model.EmbedType)
	}
	kvDim := uint64(s.KVHeads * s.HeadDim)
	h, ffn := uint64(s.Hidden), uint64(s.FFN)
	type spec struct {
		typ  kernels.Type
		dims []uint64
	}
	want := map[string]spec{
		"token_embd.weight":  {et, []uint64{h, uint64(s.Vocab)}},
		"output_norm.weight": {kernels.F32, []uint64{h}},
	}
	projDims := map[string][]uint64{
		"attn_q": {h, h}, "attn_output": {h, h}, "attn_k": {h, kvDim}, "attn_v": {h, kvDim},
		"ffn_gate": {h, ffn}, "ffn_up": {h, ffn}, "ffn_down": {ffn, h},
	}
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		for _, norm := range []string{"attn_norm", "attn_sub_norm", "ffn_norm"} {
			want[p+norm+".weight"] = spec{kernels.F32, []uint64{h}}
		}
		want[p+"ffn_sub_norm.weight"] = spec{kernels.F32, []uint64{ffn}}
		for _, proj := range projections {
			want[p+proj+".weight"] = spec{wt, projDims[proj]}
			if c.Model.ScaleTensors {
				want[p+proj+".scale"] = spec{kernels.F32, []uint64{1}}
			}
		}
	}
	perLayer := 11
	if c.Model.ScaleTensors {
		perLayer += 7
	}
	if n := 2 + perLayer*s.Layers; len(f.Tensors) != n || len(want) != n {
		t.Errorf("%d tensors, want 2 + %d per layer x %d layers = %d", len(f.Tensors), perLayer, s.Layers, n)
	}
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		w, ok := want[tn.Name]
		if !ok {
			t.Errorf("unexpected tensor %q", tn.Name)
			continue
		}
		if tn.Type != w.typ || !reflect.DeepEqual(tn.Dims, w.dims) {
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
	if _, ok := f.Tensor("output.weight"); ok {
		t.Error("output.weight present; the golden models tie embeddings")
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
