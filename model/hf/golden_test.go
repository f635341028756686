package hf

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/golden"
	"github.com/bitnet-go/bitnet/model/safetensors"
)

// goldenModes maps the golden acceptance checks to the arithmetic they judge
// (testdata README §3).
var goldenModes = map[string]model.ActivationMode{
	"exact":             model.ActFloat,
	"exact-vs-llamacpp": model.ActFloat,
	"int8-per-token":    model.ActInt8,
	"int8-q8k":          model.ActQ8K,
}

// TestGoldenAsHFDirectory rewrites the golden I2_S models as packed
// BitNetForCausalLM directories, in both weight_scale conventions, and
// judges the logits of the directories with the golden data's own checks:
// reference programs' outputs, independent of this package and of the
// synthetic models above. With the multiplying convention the weights are
// the GGUF's exactly, so the logits must also equal the engine's on the GGUF.
func TestGoldenAsHFDirectory(t *testing.T) {
	for _, c := range golden.Cases(t) {
		if c.Spec.Model.WeightType != "i2_s" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			for _, class := range []string{"autobitlinear", "bitlinear"} {
				dir := goldenAsHF(t, c.ModelPath(), class)
				byMode := map[model.ActivationMode][]golden.Check{}
				for _, ch := range c.Spec.Checks {
					mode, ok := goldenModes[ch.Name]
					if !ok {
						t.Fatalf("unknown acceptance check %q", ch.Name)
					}
					byMode[mode] = append(byMode[mode], ch)
				}
				for mode, checks := range byMode {
					got := goldenLogits(t, loadHF(t, dir, kernels.I2_S, mode).Model, c.Tokens.Sequence)
					for _, ch := range checks {
						d, err := c.Apply(ch, got)
						if err != nil {
							t.Errorf("%s, %v activations: %v", class, mode, err)
							continue
						}
						t.Logf("%s %-15s %v activations vs %-9s %v", class, ch.Name, mode, ch.CompareTo, d)
					}
					if class != "autobitlinear" {
						continue
					}
					want := goldenLogits(t, loadGGUF(t, c.ModelPath(), mode), c.Tokens.Sequence)
					if d := golden.Compare(got, want); d.MaxAbs != 0 {
						t.Errorf("%v activations: directory differs from the GGUF: %v", mode, d)
					}
				}
			}
		})
	}
}

func goldenLogits(t *testing.T, m *model.Model, seq []int) [][]float32 {
	t.Helper()
	vocab := m.Config.VocabSize
	flat := make([]float32, len(seq)*vocab)
	if err := m.NewSession().Forward(context.Background(), seq, flat); err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(seq))
	for i := range out {
		out[i] = flat[i*vocab : (i+1)*vocab]
	}
	return out
}

// goldenAsHF writes a bitnet or bitnet-b1.58 GGUF with I2_S projections as a
// BitNetForCausalLM directory: floats copied, ternary weights unpacked from
// I2_S and packed as transformers does, weight_scale stored per class.
func goldenAsHF(t *testing.T, path, class string) string {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := model.ConfigFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensor("output.weight"); ok {
		t.Fatal("test setup: golden model with an output.weight")
	}
	var tensors []safetensors.TensorData
	float := func(ggufName, hfName string) {
		tn, ok := f.Tensor(ggufName)
		if !ok {
			t.Fatalf("golden model lacks %s", ggufName)
		}
		dt := map[kernels.Type]safetensors.DType{kernels.F32: safetensors.F32, kernels.F16: safetensors.F16}[tn.Type]
		if dt == "" {
			t.Fatalf("%s has type %v", ggufName, tn.Type)
		}
		shape := make([]uint64, len(tn.Dims))
		for i, d := range tn.Dims {
			shape[len(shape)-1-i] = d
		}
		tensors = append(tensors, safetensors.TensorData{Name: hfName, DType: dt, Shape: shape, Data: tn.Data})
	}
	float("token_embd.weight", "model.embed_tokens.weight")
	float("output_norm.weight", "model.norm.weight")
	for l := 0; l < cfg.Layers; l++ {
		p, hp := fmt.Sprintf("blk.%d.", l), fmt.Sprintf("model.layers.%d.", l)
		float(p+"attn_norm.weight", hp+"input_layernorm.weight")
		float(p+"ffn_norm.weight", hp+"post_attention_layernorm.weight")
		float(p+"attn_sub_norm.weight", hp+"self_attn.attn_sub_norm.weight")
		float(p+"ffn_sub_norm.weight", hp+"mlp.ffn_sub_norm.weight")
		for _, pn := range projNames {
			tn, ok := f.Tensor(p + pn[0] + ".weight")
			if !ok || tn.Type != kernels.I2_S {
				t.Fatalf("golden model: %s.weight missing or not I2_S", pn[0])
			}
			cols, rows := int(tn.Dims[0]), int(tn.Dims[1])
			m, err := kernels.NewMatrix(tn.Type, rows, cols, tn.Data)
			if err != nil {
				t.Fatal(err)
			}
			s := m.Scale()
			trits := make([]int8, rows*cols)
			for i, v := range m.Dequantize() {
				switch {
				case v > 0:
					trits[i] = 1
				case v < 0:
					trits[i] = -1
				}
			}
			stored := s
			if class == "bitlinear" {
				stored = 1 / s
			}
			tensors = append(tensors,
				safetensors.TensorData{Name: hp + pn[1] + ".weight", DType: safetensors.U8, Shape: []uint64{uint64(rows / 4), uint64(cols)}, Data: pack(trits, rows, cols)},
				safetensors.TensorData{Name: hp + pn[1] + ".weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: safetensors.EncodeF32([]float32{stored})})
		}
	}
	dir := t.TempDir()
	if err := safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFileName), tensors, nil); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, ConfigFileName), map[string]any{
		"architectures": []string{"BitNetForCausalLM"}, "model_type": "bitnet",
		"hidden_size": cfg.Hidden, "intermediate_size": cfg.FFN, "num_hidden_layers": cfg.Layers,
		"num_attention_heads": cfg.Heads, "num_key_value_heads": cfg.KVHeads, "vocab_size": cfg.VocabSize,
		"max_position_embeddings": cfg.ContextLength, "rms_norm_eps": float64(cfg.RMSEps), "rope_theta": cfg.RopeTheta,
		"hidden_act": cfg.Activation.String(), "tie_word_embeddings": true,
		"quantization_config": map[string]any{"quant_method": "bitnet", "linear_class": class, "quantization_mode": "offline"},
	})
	return dir
}
