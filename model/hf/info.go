package hf

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bitnet-go/bitnet/model/safetensors"
)

// WriteInfo describes a Hugging Face model directory for people: the model
// class and shape from config.json, tensor dtypes and sizes from the
// safetensors headers, and the tokenizer. It reads no weights, so it is
// quick even for large models; the checks against the weights happen when
// the model is loaded.
func WriteInfo(w io.Writer, dir string) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	weights, err := safetensors.OpenDir(dir)
	if err != nil {
		return err
	}
	defer weights.Close()

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	c := &cfg.Model
	row("format", "Hugging Face directory (config.json + safetensors)")
	row("architecture", fmt.Sprintf("%v (converts to GGUF %s)", cfg.Family, c.Arch))
	if cfg.Name != "" {
		row("name", cfg.Name)
	}
	row("layers", c.Layers)
	row("hidden size", c.Hidden)
	row("feed-forward size", c.FFN)
	row("heads (query / key-value)", fmt.Sprintf("%d / %d, head dim %d", c.Heads, c.KVHeads, c.HeadDim))
	row("vocabulary", c.VocabSize)
	row("context length", c.ContextLength)
	row("rope", fmt.Sprintf("theta %g, %d dims, neox (rotate-half)", c.RopeTheta, c.RopeDims))
	row("rms epsilon", c.RMSEps)
	row("ffn activation", c.Activation)
	row("sub-norms", c.SubNorms)
	_, hasHead := weights.Tensor("lm_head.weight")
	tied := !hasHead
	if cfg.TieEmbeddings != nil {
		tied = *cfg.TieEmbeddings
	}
	row("tied embeddings", tied)
	row("weights", weightsDescription(cfg, weights))

	type agg struct {
		count int
		bytes uint64
	}
	byType := map[safetensors.DType]*agg{}
	var total uint64
	for _, name := range weights.Names() {
		t, _ := weights.Tensor(name)
		a := byType[t.DType]
		if a == nil {
			a = &agg{}
			byType[t.DType] = a
		}
		a.count++
		a.bytes += uint64(len(t.Data))
		total += uint64(len(t.Data))
	}
	types := make([]safetensors.DType, 0, len(byType))
	for dt := range byType {
		types = append(types, dt)
	}
	sort.Slice(types, func(i, j int) bool { return byType[types[i]].bytes > byType[types[j]].bytes })
	files := fmt.Sprintf("%d file", len(weights.Shards))
	if len(weights.Shards) != 1 {
		files += "s"
	}
	row("tensors", fmt.Sprintf("%d in %s, %s", len(weights.Names()), files, humanBytes(total)))
	for _, dt := range types {
		a := byType[dt]
		row("  "+string(dt), fmt.Sprintf("%d tensors, %s", a.count, humanBytes(a.bytes)))
	}
	row("tokenizer", tokenizerDescription(dir))
	return tw.Flush()
}

// weightsDescription says how the projections are stored and what loading
// does with them.
func weightsDescription(cfg *Config, weights *safetensors.Model) string {
	t, ok := weights.Tensor("model.layers.0.self_attn.q_proj.weight")
	switch {
	case !ok:
		return "no model.layers.0.self_attn.q_proj.weight"
	case t.DType == safetensors.U8:
		return fmt.Sprintf("packed ternary (uint8, 4 per byte), weight_scale %v", cfg.Quant.Scale)
	case t.DType.IsFloat() && cfg.Quant.LatentFloats:
		return fmt.Sprintf("%s master weights, made ternary with absmean at load", t.DType)
	case t.DType.IsFloat():
		return fmt.Sprintf("%s, not quantised", t.DType)
	}
	return fmt.Sprintf("unsupported dtype %s", t.DType)
}

// tokenizerDescription names the tokenizer file LoadTokenizer would use and
// what it holds.
func tokenizerDescription(dir string) string {
	tok, err := LoadTokenizer(dir)
	if err != nil {
		return err.Error()
	}
	file := TokenizerModel
	if exists(filepath.Join(dir, TokenizerJSON)) {
		file = TokenizerJSON
	}
	desc := fmt.Sprintf("%s: %v, %d tokens", file, tok.Kind(), tok.VocabSize())
	var ids []string
	for _, s := range []struct {
		name string
		id   int
	}{{"bos", tok.BOS()}, {"eos", tok.EOS()}, {"eot", tok.EOT()}} {
		if s.id >= 0 {
			ids = append(ids, fmt.Sprintf("%s %d", s.name, s.id))
		}
	}
	if len(ids) > 0 {
		desc += ", " + strings.Join(ids, ", ")
	}
	return desc
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
