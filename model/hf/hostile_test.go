package hf

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/safetensors"
)

// replace returns an edit that swaps the tensor called name for t (or drops
// it when t.Name is empty).
func replace(name string, t safetensors.TensorData) edit {
	return func(_ map[string]any, ts []safetensors.TensorData) []safetensors.TensorData {
		out := ts[:0:0]
		for _, x := range ts {
			switch {
			case x.Name != name:
				out = append(out, x)
			case t.Name != "":
				out = append(out, t)
			}
		}
		return out
	}
}

func drop(name string) edit { return replace(name, safetensors.TensorData{}) }

func add(t safetensors.TensorData) edit {
	return func(_ map[string]any, ts []safetensors.TensorData) []safetensors.TensorData { return append(ts, t) }
}

func setConfig(key string, v any) edit {
	return func(cfg map[string]any, ts []safetensors.TensorData) []safetensors.TensorData {
		cfg[key] = v
		return ts
	}
}

// TestHostileDirectories: missing and malformed tensors are refused with a
// message naming the tensor and, where it exists, its file; nothing panics.
func TestHostileDirectories(t *testing.T) {
	fams := families()
	packed, latent, llama := fams["BitNetForCausalLM-packed"], fams["1bitLLM"], fams["Llama-bitnet"]
	packed.layers, latent.layers, llama.layers = 2, 2, 2
	latent.shards = 1
	scale := func(v ...float32) []byte { return safetensors.EncodeF32(v) }
	q := "model.layers.1.self_attn.q_proj"
	code3 := make([]byte, 64*256)
	code3[77] = 0xc0 // row 77 of the fourth quarter holds code 3
	cases := []struct {
		name string
		s    spec
		ed   edit
		want []string
	}{
		{"missing projection", packed, drop("model.layers.1.mlp.down_proj.weight"), []string{"missing tensor model.layers.1.mlp.down_proj.weight"}},
		{"missing embeddings", latent, drop("model.embed_tokens.weight"), []string{"missing tensor model.embed_tokens.weight"}},
		{"missing sub-norm", latent, drop("model.layers.0.self_attn.inner_attn_ln.weight"), []string{"missing tensor model.layers.0.self_attn.inner_attn_ln.weight"}},
		{"missing weight_scale", packed, drop(q + ".weight_scale"), []string{q + ".weight", "no " + q + ".weight_scale"}},
		{"packed shape", packed, replace(q+".weight", safetensors.TensorData{Name: q + ".weight", DType: safetensors.U8, Shape: []uint64{256, 256}, Data: make([]byte, 256*256)}),
			[]string{q + ".weight", "model.safetensors", "shape [256 256]", "want [64 256]"}},
		{"packed code 3", packed, replace(q+".weight", safetensors.TensorData{Name: q + ".weight", DType: safetensors.U8, Shape: []uint64{64, 256}, Data: code3}),
			[]string{q + ".weight", "code 3"}},
		{"scale zero", packed, replace(q+".weight_scale", safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: scale(0)}),
			[]string{q + ".weight_scale", "positive finite"}},
		{"scale NaN", packed, replace(q+".weight_scale", safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: scale(float32(math.NaN()))}),
			[]string{q + ".weight_scale", "positive finite"}},
		{"scale negative", packed, replace(q+".weight_scale", safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: scale(-0.5)}),
			[]string{q + ".weight_scale"}},
		{"scale per row", packed, replace(q+".weight_scale", safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.F32, Shape: []uint64{2}, Data: scale(1, 2)}),
			[]string{q + ".weight_scale", "want one float value"}},
		{"scale integer", packed, replace(q+".weight_scale", safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.U8, Shape: []uint64{1}, Data: []byte{3}}),
			[]string{q + ".weight_scale", "dtype U8"}},
		{"divided scale overflows", llama, replace("model.layers.0.mlp.up_proj.weight_scale", safetensors.TensorData{Name: "model.layers.0.mlp.up_proj.weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: scale(1e-45)}),
			[]string{"up_proj.weight_scale"}},
		{"embedding dtype", latent, replace("model.embed_tokens.weight", safetensors.TensorData{Name: "model.embed_tokens.weight", DType: safetensors.I8, Shape: []uint64{300, 256}, Data: make([]byte, 300*256)}),
			[]string{"model.embed_tokens.weight", "dtype I8"}},
		{"vocabulary mismatch", latent, setConfig("vocab_size", 301), []string{"model.embed_tokens.weight", "shape [300 256]", "want [301 256]"}},
		{"norm shape", latent, replace("model.norm.weight", safetensors.TensorData{Name: "model.norm.weight", DType: safetensors.F16, Shape: []uint64{255}, Data: make([]byte, 510)}),
			[]string{"model.norm.weight", "shape [255]"}},
		{"latent shape", latent, setConfig("intermediate_size", 768), []string{"model.layers.0.mlp.ffn_layernorm.weight", "shape [512]", "want [768]"}},
		{"latent NaN", latent, replace("model.layers.0.mlp.up_proj.weight", safetensors.TensorData{Name: "model.layers.0.mlp.up_proj.weight", DType: safetensors.F16,
			Shape: []uint64{512, 256}, Data: append(safetensors.EncodeF16([]float32{float32(math.Inf(1))}), make([]byte, 512*256*2-2)...)}),
			[]string{"model.layers.0.mlp.up_proj.weight", "non-finite"}},
		{"bias", packed, add(safetensors.TensorData{Name: q + ".bias", DType: safetensors.F32, Shape: []uint64{256}, Data: make([]byte, 1024)}), []string{q + ".bias", "biases"}},
		{"untied without head", packed, func(cfg map[string]any, ts []safetensors.TensorData) []safetensors.TensorData {
			cfg["tie_word_embeddings"] = false
			return ts
		}, []string{"tie_word_embeddings false", "no lm_head.weight"}},
		{"packed without quantization_config", packed, setConfig("quantization_config", nil), []string{"packed uint8", "no quantization_config"}},
		{"float weight with a scale", latent, add(safetensors.TensorData{Name: q + ".weight_scale", DType: safetensors.F32, Shape: []uint64{1}, Data: scale(1)}),
			[]string{q + ".weight", "float weight with a weight_scale"}},
		{"unknown architecture", packed, setConfig("architectures", []string{"GPT2LMHeadModel"}), []string{"config.json", `unsupported architecture "GPT2LMHeadModel"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := generate(c.s).writeDirEdited(t, c.ed)
			d, err := Open(dir, Options{Threads: 2})
			if err == nil {
				d.Close()
				t.Fatal("opened without an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestBlockSizes: a ternary type whose blocks do not divide the input
// features is refused by name, not mis-encoded.
func TestBlockSizes(t *testing.T) {
	s := families()["BitNetForCausalLM-packed"]
	s.hidden, s.heads, s.kvHeads, s.ffn, s.layers = 384, 6, 2, 512, 1 // 384 = 3 × 128, not a multiple of 256
	dir := generate(s).writeDir(t)
	d, err := Open(dir, Options{Ternary: kernels.I2_S})
	if err != nil {
		t.Fatalf("I2_S: %v", err)
	}
	d.Close()
	for _, typ := range []kernels.Type{kernels.TQ2_0, kernels.TQ1_0} {
		_, err := Open(dir, Options{Ternary: typ})
		if err == nil || !strings.Contains(err.Error(), "384 input features are not a multiple of 256") || !strings.Contains(err.Error(), typ.String()) {
			t.Errorf("%v: %v", typ, err)
		}
	}
	if _, err := Open(dir, Options{Ternary: kernels.F16}); err == nil {
		t.Error("F16 accepted as a ternary type")
	}
	s.hidden, s.heads, s.kvHeads = 192, 3, 1 // not a multiple of 128
	_, err = Open(generate(s).writeDir(t), Options{})
	if err == nil || !strings.Contains(err.Error(), "192 input features are not a multiple of 128") {
		t.Errorf("hidden 192: %v", err)
	}
}

// TestMissingFiles: a directory without config.json, weights or tokenizer.
func TestMissingFiles(t *testing.T) {
	empty := t.TempDir()
	if _, err := Open(empty, Options{}); err == nil || !strings.Contains(err.Error(), ConfigFileName) {
		t.Errorf("no config.json: %v", err)
	}
	dir := generate(families()["1bitLLM"]).writeDir(t)
	noWeights := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noWeights, ConfigFileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(noWeights, Options{}); err == nil || !strings.Contains(err.Error(), ".safetensors") {
		t.Errorf("no weights: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, TokenizerJSON)); err != nil {
		t.Fatal(err)
	}
	err = Convert(context.Background(), dir, filepath.Join(t.TempDir(), "x.gguf"), ConvertOptions{})
	if !errors.Is(err, ErrNoTokenizer) {
		t.Errorf("convert without a tokenizer: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("truncated config.json: %v", err)
	}
}
