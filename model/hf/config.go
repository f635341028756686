package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
)

// ConfigFileName is the configuration file of a Hugging Face model directory.
const ConfigFileName = "config.json"

// maxConfigSize bounds the config.json read into memory; real ones are a few
// kilobytes.
const maxConfigSize = 4 << 20

// maxDim bounds every size in config.json, as the GGUF reader does.
const maxDim = 1 << 24

// Family is the model class a config.json names in "architectures".
type Family int

const (
	// BitNet is transformers' BitNetForCausalLM: BitNet b1.58 2B4T (packed
	// weights) and its -bf16 master weights. Sub-norms attn_sub_norm and
	// ffn_sub_norm; ReLU² unless hidden_act says otherwise.
	BitNet Family = iota
	// OneBitLLM is 1bitLLM's BitnetForCausalLM (bitnet_b1_58-large, -3B):
	// fp16 latent weights, sub-norms inner_attn_ln and ffn_layernorm, SwiGLU.
	OneBitLLM
	// LlamaBitNet is LlamaForCausalLM with a quantization_config of
	// quant_method "bitnet" (Falcon3-*-1.58bit, Llama3-8B-1.58): packed
	// weights, no sub-norms, SwiGLU.
	LlamaBitNet
)

// String returns the Hugging Face class name of the family.
func (f Family) String() string {
	switch f {
	case OneBitLLM:
		return "BitnetForCausalLM"
	case LlamaBitNet:
		return "LlamaForCausalLM"
	}
	return "BitNetForCausalLM"
}

// familyDefaults are the values transformers' configuration class of each
// family uses for keys a config.json leaves out.
type familyDefaults struct {
	act       string
	ropeTheta float64
	rmsEps    float64
	subNorms  bool
}

var defaults = map[Family]familyDefaults{
	BitNet:      {act: "relu2", ropeTheta: 500000, rmsEps: 1e-5, subNorms: true},
	OneBitLLM:   {act: "silu", ropeTheta: 10000, rmsEps: 1e-6, subNorms: true},
	LlamaBitNet: {act: "silu", ropeTheta: 10000, rmsEps: 1e-6, subNorms: false},
}

// ScaleConvention is how a packed projection's weight_scale relates to its
// weights. transformers has two classes for packed BitNet layers, chosen by
// quantization_config.linear_class, and they use the stored scale in
// opposite directions (integrations/bitnet.py).
type ScaleConvention int

const (
	// ScaleDivides: W = ternary / weight_scale. BitLinear, the class of
	// linear_class "bitlinear" (the default: Falcon3-1.58bit,
	// Llama3-8B-1.58), computes y = (W_t · x_q) / (x_scale · weight_scale),
	// so its weight_scale is 1/mean|W|.
	ScaleDivides ScaleConvention = iota
	// ScaleMultiplies: W = ternary × weight_scale. AutoBitLinear, the class
	// of linear_class "autobitlinear" (BitNet b1.58 2B4T), computes
	// y = (W_t · ActQuant(x)) × weight_scale, so its weight_scale is mean|W|.
	ScaleMultiplies
)

// String names the convention.
func (s ScaleConvention) String() string {
	if s == ScaleMultiplies {
		return "multiplies (autobitlinear)"
	}
	return "divides (bitlinear)"
}

// Quantization is what a config.json's quantization_config says about the
// projection weights.
type Quantization struct {
	// Method is the quant_method: "bitnet", or "" without a
	// quantization_config.
	Method string
	// Scale is the direction of weight_scale for packed (uint8) weights.
	Scale ScaleConvention
	// LatentFloats says that floating-point projection weights are master
	// weights to be made ternary with absmean at load time: true without a
	// quantization_config (1bitLLM) and for quantization_mode "online" (the
	// 2B4T -bf16 weights). With an "offline" configuration a float
	// projection is a layer left unquantised (modules_to_not_convert) and
	// stays float.
	LatentFloats bool
}

// Config is a parsed and validated config.json.
type Config struct {
	// Family is the model class.
	Family Family
	// Model is the engine's configuration. Its Arch is the GGUF
	// architecture the model converts to ("bitnet-b1.58", "bitnet" or
	// "llama"); RoPE is rotate-half (RoPENeox) for every family, as Hugging
	// Face stores Q and K unpermuted.
	Model model.Config
	// Quant describes the projection weights.
	Quant Quantization
	// TieEmbeddings is tie_word_embeddings, or nil when the key is absent
	// (then the embeddings are tied exactly when there is no lm_head.weight).
	TieEmbeddings *bool
	// Name is the model's _name_or_path, when the file records one.
	Name string
}

// rawConfig is the part of config.json bitnet reads.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	NameOrPath            string          `json:"_name_or_path"`
	HiddenSize            *int64          `json:"hidden_size"`
	IntermediateSize      *int64          `json:"intermediate_size"`
	NumHiddenLayers       *int64          `json:"num_hidden_layers"`
	NumAttentionHeads     *int64          `json:"num_attention_heads"`
	NumKeyValueHeads      *int64          `json:"num_key_value_heads"`
	HeadDim               *int64          `json:"head_dim"`
	VocabSize             *int64          `json:"vocab_size"`
	MaxPositionEmbeddings *int64          `json:"max_position_embeddings"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	HiddenAct             *string         `json:"hidden_act"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	QuantizationConfig    json.RawMessage `json:"quantization_config"`
}

// rawQuant is quantization_config.
type rawQuant struct {
	QuantMethod      string `json:"quant_method"`
	LinearClass      string `json:"linear_class"`
	QuantizationMode string `json:"quantization_mode"`
	UseRMSNorm       bool   `json:"use_rms_norm"`
}

// rawRope is rope_scaling, or rope_parameters in newer transformers files.
type rawRope struct {
	RopeType  string   `json:"rope_type"`
	Type      string   `json:"type"`
	RopeTheta *float64 `json:"rope_theta"`
}

// ReadConfig reads and validates dir/config.json.
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFileName)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read model config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxConfigSize)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses the bytes of a config.json.
func ParseConfig(data []byte) (*Config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a valid config.json: %w", err)
	}
	fam, err := family(&r)
	if err != nil {
		return nil, err
	}
	def := defaults[fam]
	c := &Config{Family: fam, Name: r.NameOrPath, TieEmbeddings: r.TieWordEmbeddings}
	if c.Quant, err = quantization(fam, r.QuantizationConfig); err != nil {
		return nil, err
	}
	if r.AttentionBias != nil && *r.AttentionBias || r.MLPBias != nil && *r.MLPBias {
		return nil, fmt.Errorf("attention_bias or mlp_bias is set: projections with biases are not supported")
	}

	m := &c.Model
	m.RopeStyle = kernels.RoPENeox
	m.SubNorms = def.subNorms
	sizes := []struct {
		key string
		v   *int64
		dst *int
	}{
		{"hidden_size", r.HiddenSize, &m.Hidden},
		{"intermediate_size", r.IntermediateSize, &m.FFN},
		{"num_hidden_layers", r.NumHiddenLayers, &m.Layers},
		{"num_attention_heads", r.NumAttentionHeads, &m.Heads},
		{"vocab_size", r.VocabSize, &m.VocabSize},
	}
	for _, s := range sizes {
		if s.v == nil {
			return nil, fmt.Errorf("missing %s", s.key)
		}
		if *s.v <= 0 || *s.v > maxDim {
			return nil, fmt.Errorf("%s = %d is out of range (1..%d)", s.key, *s.v, maxDim)
		}
		*s.dst = int(*s.v)
	}
	optional := func(key string, v *int64, def int) (int, error) {
		if v == nil {
			return def, nil
		}
		if *v <= 0 || *v > maxDim {
			return 0, fmt.Errorf("%s = %d is out of range (1..%d)", key, *v, maxDim)
		}
		return int(*v), nil
	}
	if m.KVHeads, err = optional("num_key_value_heads", r.NumKeyValueHeads, m.Heads); err != nil {
		return nil, err
	}
	if m.Heads%m.KVHeads != 0 {
		return nil, fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", m.Heads, m.KVHeads)
	}
	if r.HeadDim == nil && m.Hidden%m.Heads != 0 {
		return nil, fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d and there is no head_dim", m.Hidden, m.Heads)
	}
	if m.HeadDim, err = optional("head_dim", r.HeadDim, m.Hidden/max(m.Heads, 1)); err != nil {
		return nil, err
	}
	if m.HeadDim%2 != 0 {
		return nil, fmt.Errorf("head_dim %d is odd; RoPE needs pairs", m.HeadDim)
	}
	if m.Heads*m.HeadDim > maxDim {
		return nil, fmt.Errorf("num_attention_heads × head_dim = %d is out of range", m.Heads*m.HeadDim)
	}
	m.RopeDims = m.HeadDim
	if m.ContextLength, err = optional("max_position_embeddings", r.MaxPositionEmbeddings, 2048); err != nil {
		return nil, err
	}

	eps := def.rmsEps
	if r.RMSNormEps != nil {
		eps = *r.RMSNormEps
	}
	if !(eps > 0 && eps < 1) {
		return nil, fmt.Errorf("rms_norm_eps %v is out of range (0, 1)", eps)
	}
	m.RMSEps = float32(eps)
	m.RopeTheta = def.ropeTheta
	if r.RopeTheta != nil {
		m.RopeTheta = *r.RopeTheta
	}
	if theta, err := checkRope("rope_scaling", r.RopeScaling); err != nil {
		return nil, err
	} else if theta != nil {
		m.RopeTheta = *theta
	}
	if theta, err := checkRope("rope_parameters", r.RopeParameters); err != nil {
		return nil, err
	} else if theta != nil {
		m.RopeTheta = *theta
	}
	if !(m.RopeTheta > 0) || math.IsInf(m.RopeTheta, 0) {
		return nil, fmt.Errorf("rope_theta %v must be positive and finite", m.RopeTheta)
	}

	act := def.act
	if r.HiddenAct != nil {
		act = *r.HiddenAct
	}
	if m.Activation, err = model.ParseActivation(act); err != nil {
		return nil, fmt.Errorf("hidden_act: %w", err)
	}
	m.Arch = ggufArch(fam, m.Activation)
	return c, nil
}

// family picks the model class from "architectures", or from "model_type"
// when the list is absent.
func family(r *rawConfig) (Family, error) {
	supported := "BitNetForCausalLM, BitnetForCausalLM, LlamaForCausalLM with quant_method \"bitnet\""
	if len(r.Architectures) > 1 {
		return 0, fmt.Errorf("architectures lists %d classes %q; bitnet loads exactly one (%s)", len(r.Architectures), r.Architectures, supported)
	}
	name := ""
	if len(r.Architectures) == 1 {
		name = r.Architectures[0]
	}
	switch {
	case name == "BitNetForCausalLM", name == "" && r.ModelType == "bitnet":
		return BitNet, nil
	case name == "BitnetForCausalLM":
		return OneBitLLM, nil
	case name == "LlamaForCausalLM", name == "" && r.ModelType == "llama":
		return LlamaBitNet, nil
	case name == "":
		return 0, fmt.Errorf("no architectures and model_type %q: cannot tell the model class (supported: %s)", r.ModelType, supported)
	}
	return 0, fmt.Errorf("unsupported architecture %q (supported: %s)", name, supported)
}

// quantization reads quantization_config.
func quantization(fam Family, raw json.RawMessage) (Quantization, error) {
	if isNull(raw) {
		if fam == LlamaBitNet {
			return Quantization{}, errors.New("LlamaForCausalLM without a quantization_config of quant_method \"bitnet\" is a full-precision Llama, not a BitNet model")
		}
		return Quantization{LatentFloats: true}, nil
	}
	var q rawQuant
	if err := json.Unmarshal(raw, &q); err != nil {
		return Quantization{}, fmt.Errorf("quantization_config: %w", err)
	}
	if q.QuantMethod != "bitnet" {
		return Quantization{}, fmt.Errorf("quantization_config.quant_method %q is not supported (want \"bitnet\")", q.QuantMethod)
	}
	if q.UseRMSNorm {
		return Quantization{}, errors.New("quantization_config.use_rms_norm (a norm inside every BitLinear) is not supported")
	}
	out := Quantization{Method: q.QuantMethod}
	switch q.LinearClass {
	case "", "bitlinear":
		out.Scale = ScaleDivides
	case "autobitlinear":
		out.Scale = ScaleMultiplies
	default:
		return Quantization{}, fmt.Errorf("quantization_config.linear_class %q is not supported (want bitlinear or autobitlinear)", q.LinearClass)
	}
	switch q.QuantizationMode {
	case "", "offline":
	case "online":
		// Only AutoBitLinear quantises online; BitLinear always holds packed
		// weights whatever the mode says.
		out.LatentFloats = out.Scale == ScaleMultiplies
	default:
		return Quantization{}, fmt.Errorf("quantization_config.quantization_mode %q is not supported (want offline or online)", q.QuantizationMode)
	}
	return out, nil
}

// checkRope accepts only RoPE without scaling and returns the rope_theta the
// object carries, if any.
func checkRope(key string, raw json.RawMessage) (*float64, error) {
	if isNull(raw) {
		return nil, nil
	}
	var r rawRope
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	typ := r.RopeType
	if typ == "" {
		typ = r.Type
	}
	if typ != "" && typ != "default" {
		return nil, fmt.Errorf("%s type %q is not supported: bitnet implements plain RoPE only (rope_type \"default\")", key, typ)
	}
	if typ == "" && r.RopeTheta == nil {
		return nil, fmt.Errorf("%s %s has no rope_type; only plain RoPE is supported", key, compact(raw))
	}
	return r.RopeTheta, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// compact shortens a JSON value for an error message.
func compact(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// ggufArch is the GGUF architecture a family converts to.
func ggufArch(f Family, act model.Activation) string {
	switch {
	case f == LlamaBitNet:
		return "llama"
	case f == BitNet && act == model.ReLU2:
		return "bitnet-b1.58"
	}
	return "bitnet"
}
