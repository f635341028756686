package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/safetensors"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// writeHFDir writes a small 1bitLLM-style Hugging Face directory: fp32
// master weights, sub-norms, an lm head and a byte-level tokenizer.json.
func writeHFDir(t *testing.T) string {
	t.Helper()
	const hidden, ffn, heads, vocab = 256, 256, 2, 300
	rng := rand.New(rand.NewPCG(3, 3))
	var ts []safetensors.TensorData
	add := func(name string, dims ...int) {
		n := 1
		shape := make([]uint64, len(dims))
		for i, d := range dims {
			n *= d
			shape[i] = uint64(d)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.1 * rng.NormFloat64())
			if len(dims) == 1 {
				v[i]++
			}
		}
		ts = append(ts, safetensors.TensorData{Name: name, DType: safetensors.F32, Shape: shape, Data: safetensors.EncodeF32(v)})
	}
	add("model.embed_tokens.weight", vocab, hidden)
	add("model.norm.weight", hidden)
	add("lm_head.weight", vocab, hidden)
	p := "model.layers.0."
	add(p+"input_layernorm.weight", hidden)
	add(p+"post_attention_layernorm.weight", hidden)
	add(p+"self_attn.inner_attn_ln.weight", hidden)
	add(p+"mlp.ffn_layernorm.weight", ffn)
	for _, n := range []string{"q", "k", "v", "o"} {
		add(p+"self_attn."+n+"_proj.weight", hidden, hidden)
	}
	add(p+"mlp.gate_proj.weight", ffn, hidden)
	add(p+"mlp.up_proj.weight", ffn, hidden)
	add(p+"mlp.down_proj.weight", hidden, ffn)
	dir := t.TempDir()
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, filepath.Join(dir, "config.json"), map[string]any{
		"architectures": []string{"BitnetForCausalLM"}, "hidden_size": hidden, "intermediate_size": ffn,
		"num_hidden_layers": 1, "num_attention_heads": heads, "vocab_size": vocab, "max_position_embeddings": 32,
		"rms_norm_eps": 1e-5, "hidden_act": "silu", "tie_word_embeddings": false,
	})
	vocabMap := map[string]int{}
	for b := 0; b < 256; b++ {
		vocabMap[tokenizer.ByteLevelEncode(string([]byte{byte(b)}))] = b
	}
	vocabMap["Ġt"], vocabMap["he"] = 256, 257
	writeJSONFile(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
		"added_tokens":  []map[string]any{{"id": 258, "content": "<|begin_of_text|>", "special": true}},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocabMap, "merges": []string{"Ġ t", "h e"}},
	})
	return dir
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConvertCommand converts a directory with each output type, describes
// both, and checks that `logits` gives the same bytes from the directory as
// from the I2_S file converted from it.
func TestConvertCommand(t *testing.T) {
	dir := writeHFDir(t)
	tmp := t.TempDir()
	for _, typ := range []string{"i2_s", "tq2_0", "tq1_0", "f16"} {
		out := filepath.Join(tmp, typ+".gguf")
		code, stdout, stderr := runCLI(t, "", "convert", dir, "-o", out, "--type", typ, "-t", "2")
		if code != 0 || !strings.Contains(stdout, "wrote "+out) {
			t.Fatalf("convert --type %s: exit %d, %q %q", typ, code, stdout, stderr)
		}
		code, stdout, stderr = runCLI(t, "", "info", out)
		if code != 0 || !strings.Contains(stdout, "architecture") || !strings.Contains(stdout, "bitnet") || !strings.Contains(stdout, strings.ToUpper(typ)) {
			t.Errorf("info %s: exit %d:\n%s%s", typ, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, "", "info", dir)
	if code != 0 || !strings.Contains(stdout, "BitnetForCausalLM (converts to GGUF bitnet)") || !strings.Contains(stdout, "F32 master weights") {
		t.Errorf("info DIR: exit %d:\n%s%s", code, stdout, stderr)
	}
	var outs [2][]byte
	for i, m := range []string{dir, filepath.Join(tmp, "i2_s.gguf")} {
		f := filepath.Join(tmp, fmt.Sprintf("logits%d.f32", i))
		code, _, stderr := runCLI(t, "", "logits", "-m", m, "--tokens", "258,1,256,299,7", "-o", f, "-t", "2")
		if code != 0 {
			t.Fatalf("logits -m %s: exit %d: %s", m, code, stderr)
		}
		var err error
		if outs[i], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if len(outs[0]) != 5*300*4 || !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("logits from the directory (%d bytes) and from its I2_S conversion (%d bytes) differ", len(outs[0]), len(outs[1]))
	}
}

func TestConvertCommandErrors(t *testing.T) {
	dir := writeHFDir(t)
	out := filepath.Join(t.TempDir(), "m.gguf")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"convert"}, exitUsage, "one model directory and -o"},
		{[]string{"convert", dir}, exitUsage, "-o FILE.gguf"},
		{[]string{"convert", dir, dir, "-o", out}, exitUsage, "one model directory"},
		{[]string{"convert", dir, "-o", out, "--type", "q4_0"}, exitUsage, `unknown output type "q4_0"`},
		{[]string{"convert", t.TempDir(), "-o", out}, exitError, "not a Hugging Face model directory"},
		{[]string{"convert", filepath.Join(dir, "nothing"), "-o", out}, exitError, "no such file"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed conversion left an output file")
	}
}
