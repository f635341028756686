package loader

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/model/golden"
	"github.com/bitnet-go/bitnet/model/hf"
	"github.com/bitnet-go/bitnet/model/safetensors"
	"github.com/bitnet-go/bitnet/model/synthetic"
)

var testOpts = model.Options{Threads: 2}

// writeLatentDir writes a small 1bitLLM-style directory (float master
// weights) and returns its path.
func writeLatentDir(t *testing.T) string {
	t.Helper()
	const hidden, ffn, layers, heads, vocab = 128, 256, 1, 2, 64
	rng := rand.New(rand.NewPCG(1, 1))
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
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
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
	}
	dir := t.TempDir()
	if err := safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFileName), ts, nil); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"architectures": ["BitnetForCausalLM"], "hidden_size": %d, "intermediate_size": %d,
		"num_hidden_layers": %d, "num_attention_heads": %d, "vocab_size": %d, "max_position_embeddings": 16,
		"rms_norm_eps": 1e-5, "hidden_act": "silu", "tie_word_embeddings": false}`, hidden, ffn, layers, heads, vocab)
	if err := os.WriteFile(filepath.Join(dir, hf.ConfigFileName), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, l *Loaded) {
	t.Helper()
	if err := l.Model.NewSession().Forward(context.Background(), []int{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadHFDirectory(t *testing.T) {
	dir := writeLatentDir(t)
	for _, arg := range []string{dir, filepath.Join(dir, hf.ConfigFileName), filepath.Join(dir, safetensors.SingleFileName)} {
		l, err := Load(arg, testOpts)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if l.Format != HF || l.Path != dir || l.Model.Config.Arch != "bitnet" {
			t.Errorf("%s: format %q, path %q, arch %q", arg, l.Format, l.Path, l.Model.Config.Arch)
		}
		if !l.Model.Weights.Layers[0].Q.W.Type.Ternary() {
			t.Errorf("%s: master weights were not made ternary", arg)
		}
		if l.Tokenizer != nil || !errors.Is(l.TokenizerErr, hf.ErrNoTokenizer) {
			t.Errorf("%s: tokenizer %v, error %v; want ErrNoTokenizer", arg, l.Tokenizer, l.TokenizerErr)
		}
		run(t, l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadHFTokenizer uses the real Llama 2 tokenizer.model when the shared
// test data is present.
func TestLoadHFTokenizer(t *testing.T) {
	src := filepath.Join(golden.SharedDir(t), "testdata", "tokenizers", "llama2", "tokenizer.model")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("no %s", src)
	}
	dir := writeLatentDir(t)
	if err := os.WriteFile(filepath.Join(dir, hf.TokenizerModel), data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Tokenizer == nil || l.TokenizerErr != nil || l.Tokenizer.VocabSize() != 32000 {
		t.Fatalf("tokenizer %v, error %v", l.Tokenizer, l.TokenizerErr)
	}
}

// writeBareGGUF writes a tiny float "llama" model without tokenizer
// metadata.
func writeBareGGUF(t *testing.T) string {
	t.Helper()
	const hidden, ffn, vocab = 64, 64, 8
	w := gguf.NewWriter()
	w.AddKV("general.architecture", "llama")
	for k, v := range map[string]uint32{"context_length": 16, "embedding_length": hidden, "feed_forward_length": ffn,
		"block_count": 1, "attention.head_count": 2, "vocab_size": vocab} {
		w.AddKV("llama."+k, v)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	add := func(name string, rows, cols int) {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		data, _ := kernels.Encode(kernels.F32, v, cols)
		dims := []uint64{uint64(cols), uint64(rows)}
		if rows == 1 {
			dims = dims[:1]
		}
		w.AddTensor(name, kernels.F32, dims, data)
	}
	add("token_embd.weight", vocab, hidden)
	add("output_norm.weight", 1, hidden)
	add("blk.0.attn_norm.weight", 1, hidden)
	add("blk.0.ffn_norm.weight", 1, hidden)
	for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
		add("blk.0."+n+".weight", hidden, hidden)
	}
	path := filepath.Join(t.TempDir(), "bare.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadGGUF(t *testing.T) {
	// A GGUF without tokenizer metadata still loads.
	path := writeBareGGUF(t)
	l, err := Load(path, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if l.Format != GGUF || l.Path != path || l.Tokenizer != nil || l.TokenizerErr == nil || !strings.Contains(l.TokenizerErr.Error(), path) {
		t.Errorf("format %q, path %q, tokenizer %v, error %v", l.Format, l.Path, l.Tokenizer != nil, l.TokenizerErr)
	}
	run(t, l)
	l.Close()

	// A synthetic model carries its tokenizer.
	path = filepath.Join(t.TempDir(), "synthetic.gguf")
	err = synthetic.Write(path, synthetic.Options{Shape: synthetic.Shape{Hidden: 256, FFN: 256, Layers: 1, Heads: 2, KVHeads: 1, Vocab: 256, Context: 16}, WeightType: kernels.I2_S})
	if err != nil {
		t.Fatal(err)
	}
	l, err = Load(path, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Tokenizer == nil || l.TokenizerErr != nil {
		t.Errorf("synthetic model: tokenizer %v, error %v", l.Tokenizer != nil, l.TokenizerErr)
	}
	run(t, l)
}

func TestLoadErrors(t *testing.T) {
	tmp := t.TempDir()
	garbage := filepath.Join(tmp, "garbage.gguf")
	if err := os.WriteFile(garbage, []byte("GGUF but not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	notModel := filepath.Join(tmp, "empty")
	if err := os.Mkdir(notModel, 0o755); err != nil {
		t.Fatal(err)
	}
	badDir := writeLatentDir(t)
	if err := os.Remove(filepath.Join(badDir, safetensors.SingleFileName)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		arg  string
		want []string
	}{
		{filepath.Join(tmp, "missing.gguf"), []string{"missing.gguf", "no such file"}},
		{garbage, []string{garbage}},
		{notModel, []string{notModel, "config.json"}},
		{badDir, []string{badDir, ".safetensors"}},
	}
	for _, c := range cases {
		l, err := Load(c.arg, testOpts)
		if err == nil {
			l.Close()
			t.Errorf("%s: loaded", c.arg)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.arg, err, w)
			}
		}
	}
}
