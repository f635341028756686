package hf

import (
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
)

// Configurations as the real checkpoints publish them (trimmed of keys
// bitnet does not read).
const (
	config2B4T = `{
  "architectures": ["BitNetForCausalLM"],
  "bos_token_id": 128000, "eos_token_id": 128001,
  "hidden_act": "relu2", "hidden_size": 2560, "initializer_range": 0.02,
  "intermediate_size": 6912, "max_position_embeddings": 4096, "model_type": "bitnet",
  "rms_norm_eps": 1e-05, "num_attention_heads": 20, "num_hidden_layers": 30,
  "num_key_value_heads": 5, "rope_theta": 500000.0, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256,
  "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"}
}`
	config1bitLLM = `{
  "architectures": ["BitnetForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 1536, "input_bits": 8, "intermediate_size": 4096,
  "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 16,
  "num_hidden_layers": 24, "num_key_value_heads": 16, "pad_token_id": 32000,
  "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "torch_dtype": "float16", "vocab_size": 32002, "weight_bits": 1
}`
	configFalcon3 = `{
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "head_dim": 256,
  "hidden_act": "silu", "hidden_size": 3072, "intermediate_size": 23040,
  "max_position_embeddings": 32768, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000042,
  "tie_word_embeddings": false, "vocab_size": 131072,
  "quantization_config": {"modules_to_not_convert": null, "quant_method": "bitnet"}
}`
)

func TestParseRealConfigs(t *testing.T) {
	cases := []struct {
		name, json string
		family     Family
		want       model.Config
		scale      ScaleConvention
		latent     bool
	}{
		{"2B4T", config2B4T, BitNet, model.Config{Arch: "bitnet-b1.58", VocabSize: 128256, Hidden: 2560, FFN: 6912, Layers: 30,
			Heads: 20, KVHeads: 5, HeadDim: 128, ContextLength: 4096, RMSEps: 1e-5, RopeTheta: 500000, RopeDims: 128,
			RopeStyle: kernels.RoPENeox, Activation: model.ReLU2, SubNorms: true}, ScaleMultiplies, false},
		{"1bitLLM", config1bitLLM, OneBitLLM, model.Config{Arch: "bitnet", VocabSize: 32002, Hidden: 1536, FFN: 4096, Layers: 24,
			Heads: 16, KVHeads: 16, HeadDim: 96, ContextLength: 2048, RMSEps: 1e-5, RopeTheta: 10000, RopeDims: 96,
			RopeStyle: kernels.RoPENeox, Activation: model.SiLU, SubNorms: true}, ScaleDivides, true},
		{"Falcon3", configFalcon3, LlamaBitNet, model.Config{Arch: "llama", VocabSize: 131072, Hidden: 3072, FFN: 23040, Layers: 28,
			Heads: 12, KVHeads: 4, HeadDim: 256, ContextLength: 32768, RMSEps: 1e-6, RopeTheta: 1000042, RopeDims: 256,
			RopeStyle: kernels.RoPENeox, Activation: model.SiLU, SubNorms: false}, ScaleDivides, false},
	}
	for _, c := range cases {
		got, err := ParseConfig([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Family != c.family || got.Model != c.want || got.Quant.Scale != c.scale || got.Quant.LatentFloats != c.latent {
			t.Errorf("%s: got %v %+v %v latent=%v\nwant %v %+v %v latent=%v", c.name,
				got.Family, got.Model, got.Quant.Scale, got.Quant.LatentFloats, c.family, c.want, c.scale, c.latent)
		}
	}
	// The -bf16 master weights quantise online.
	online := strings.Replace(config2B4T, `"offline"`, `"online"`, 1)
	if c, err := ParseConfig([]byte(online)); err != nil || !c.Quant.LatentFloats {
		t.Errorf("online 2B4T config: %+v, %v", c, err)
	}
	// Newer transformers files carry rope_parameters instead of rope_theta.
	v5 := strings.Replace(config1bitLLM, `"rope_theta": 10000.0`, `"rope_parameters": {"rope_type": "default", "rope_theta": 250000.0}`, 1)
	if c, err := ParseConfig([]byte(v5)); err != nil || c.Model.RopeTheta != 250000 {
		t.Errorf("rope_parameters: %+v, %v", c, err)
	}
}

// TestParseConfigErrors: every malformed or unsupported config.json is
// refused with a message that names the problem.
func TestParseConfigErrors(t *testing.T) {
	edit := func(base, old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("test setup: %q not in config", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	cases := []struct {
		name, json, want string
	}{
		{"not JSON", `{"hidden_size": `, "not a valid config.json"},
		{"array", `[1, 2]`, "not a valid config.json"},
		{"unknown architecture", edit(config2B4T, `"BitNetForCausalLM"`, `"MambaForCausalLM"`), `unsupported architecture "MambaForCausalLM"`},
		{"two architectures", edit(config2B4T, `"BitNetForCausalLM"`, `"BitNetForCausalLM", "LlamaForCausalLM"`), "exactly one"},
		{"no class", `{"model_type": "gpt2", "hidden_size": 8}`, `model_type "gpt2"`},
		{"plain llama", edit(configFalcon3, `"quantization_config": {"modules_to_not_convert": null, "quant_method": "bitnet"}`, `"quantization_config": null`), "full-precision Llama"},
		{"other quantization", edit(configFalcon3, `"quant_method": "bitnet"`, `"quant_method": "gptq"`), `quant_method "gptq" is not supported`},
		{"linear class", edit(config2B4T, `"autobitlinear"`, `"fancylinear"`), `linear_class "fancylinear"`},
		{"quantization mode", edit(config2B4T, `"offline"`, `"sometimes"`), `quantization_mode "sometimes"`},
		{"rms norm in BitLinear", edit(configFalcon3, `"quant_method": "bitnet"`, `"quant_method": "bitnet", "use_rms_norm": true`), "use_rms_norm"},
		{"missing size", edit(config2B4T, `"hidden_size": 2560,`, ``), "missing hidden_size"},
		{"negative size", edit(config2B4T, `"num_hidden_layers": 30`, `"num_hidden_layers": -30`), "num_hidden_layers = -30 is out of range"},
		{"huge size", edit(config2B4T, `"vocab_size": 128256`, `"vocab_size": 99999999999`), "vocab_size = 99999999999 is out of range"},
		{"fractional size", edit(config2B4T, `"hidden_size": 2560`, `"hidden_size": 2560.5`), "hidden_size"},
		{"size as string", edit(config2B4T, `"hidden_size": 2560`, `"hidden_size": "2560"`), "hidden_size"},
		{"GQA", edit(config2B4T, `"num_key_value_heads": 5`, `"num_key_value_heads": 3`), "not a multiple of num_key_value_heads 3"},
		{"zero KV heads", edit(config2B4T, `"num_key_value_heads": 5`, `"num_key_value_heads": 0`), "num_key_value_heads = 0"},
		{"indivisible hidden", edit(config2B4T, `"num_attention_heads": 20`, `"num_attention_heads": 30`), "not a multiple of num_attention_heads 30"},
		{"odd head_dim", edit(configFalcon3, `"head_dim": 256`, `"head_dim": 255`), "head_dim 255 is odd"},
		{"epsilon", edit(config2B4T, `"rms_norm_eps": 1e-05`, `"rms_norm_eps": 0`), "rms_norm_eps"},
		{"rope theta", edit(config2B4T, `"rope_theta": 500000.0`, `"rope_theta": -1`), "rope_theta"},
		{"llama3 rope scaling", edit(configFalcon3, `"rope_scaling": null`, `"rope_scaling": {"factor": 8.0, "rope_type": "llama3", "original_max_position_embeddings": 8192}`), `rope_scaling type "llama3" is not supported`},
		{"linear rope scaling", edit(configFalcon3, `"rope_scaling": null`, `"rope_scaling": {"type": "linear", "factor": 2.0}`), `rope_scaling type "linear"`},
		{"untyped rope scaling", edit(configFalcon3, `"rope_scaling": null`, `"rope_scaling": {"factor": 2.0}`), "rope_scaling"},
		{"rope parameters", edit(configFalcon3, `"rope_scaling": null`, `"rope_parameters": {"rope_type": "yarn", "factor": 4.0}`), `rope_parameters type "yarn"`},
		{"activation", edit(config2B4T, `"relu2"`, `"gelu"`), "hidden_act"},
		{"biases", edit(config1bitLLM, `"attention_bias": false`, `"attention_bias": true`), "biases are not supported"},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzParseConfig: any bytes are parsed or refused, never a panic, and an
// accepted configuration is one the engine can size.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{config2B4T, config1bitLLM, configFalcon3, `{}`, `null`, `{"architectures": []}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		m := &c.Model
		if m.Hidden <= 0 || m.FFN <= 0 || m.Layers <= 0 || m.VocabSize <= 0 || m.KVHeads <= 0 ||
			m.Heads%m.KVHeads != 0 || m.HeadDim <= 0 || m.HeadDim%2 != 0 || m.ContextLength <= 0 {
			t.Fatalf("accepted an unusable configuration %+v", *m)
		}
	})
}
