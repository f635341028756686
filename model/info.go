package model

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// WriteInfo describes a GGUF model file for people: architecture and shape,
// tensor types and sizes, tokenizer and context length. It reports a
// configuration error (such as an unsupported architecture) after printing
// what it could read.
func WriteInfo(w io.Writer, f *gguf.File) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	name, _ := f.String("general.name")
	row("architecture", f.Architecture())
	if name != "" {
		row("name", name)
	}
	row("gguf version", f.Version)
	cfg, cfgErr := ConfigFromGGUF(f)
	if cfgErr == nil {
		row("layers", cfg.Layers)
		row("hidden size", cfg.Hidden)
		row("feed-forward size", cfg.FFN)
		row("heads (query / key-value)", fmt.Sprintf("%d / %d, head dim %d", cfg.Heads, cfg.KVHeads, cfg.HeadDim))
		row("vocabulary", cfg.VocabSize)
		row("context length", cfg.ContextLength)
		style := "neox (rotate-half)"
		if cfg.RopeStyle == kernels.RoPENorm {
			style = "normal (adjacent pairs)"
		}
		rope := fmt.Sprintf("theta %g, %d dims, %s", cfg.RopeTheta, cfg.RopeDims, style)
		if cfg.RopeLinearFactor != 0 {
			rope += fmt.Sprintf(", linear scaling x%g", cfg.RopeLinearFactor)
		}
		if _, ok := f.Tensor("rope_freqs.weight"); ok {
			rope += ", per-pair frequency factors (rope_freqs)"
		}
		row("rope", rope)
		row("rms epsilon", cfg.RMSEps)
		row("ffn activation", cfg.Activation)
		row("sub-norms", cfg.SubNorms)
		_, hasOutput := f.Tensor("output.weight")
		row("tied embeddings", !hasOutput)
	}

	// Tensor types and sizes.
	type agg struct {
		count int
		bytes int64
		elems uint64
	}
	byType := map[kernels.Type]*agg{}
	var total int64
	var params uint64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		a := byType[t.Type]
		if a == nil {
			a = &agg{}
			byType[t.Type] = a
		}
		a.count++
		a.bytes += int64(len(t.Data))
		a.elems += t.Elems()
		total += int64(len(t.Data))
		params += t.Elems()
	}
	types := make([]kernels.Type, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return byType[types[i]].bytes > byType[types[j]].bytes })
	row("tensors", fmt.Sprintf("%d, %s parameters, %s", len(f.Tensors), humanCount(params), humanBytes(total)))
	for _, t := range types {
		a := byType[t]
		row("  "+t.String(), fmt.Sprintf("%d tensors, %s, %.2f bits/weight", a.count, humanBytes(a.bytes), 8*float64(a.bytes)/float64(a.elems)))
	}
	if emb, ok := f.Tensor("token_embd.weight"); ok {
		row("token embeddings", fmt.Sprintf("%v %v", emb.Type, emb.Dims))
	}

	// Tokenizer.
	tokModel, _ := f.String("tokenizer.ggml.model")
	if tokModel != "" {
		kind := map[string]string{"gpt2": "byte-level BPE", "llama": "SentencePiece"}[tokModel]
		desc := tokModel
		if kind != "" {
			desc = fmt.Sprintf("%s (%s)", tokModel, kind)
		}
		if pre, ok := f.String("tokenizer.ggml.pre"); ok {
			desc += ", pre-tokenizer " + pre
		} else if tokModel == "gpt2" {
			desc += ", no pre-tokenizer key (Llama 3 split)"
		}
		if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
			desc += fmt.Sprintf(", %d tokens", len(toks))
		}
		row("tokenizer", desc)
		var ids []string
		for _, k := range []string{"bos", "eos", "eot", "unknown", "padding"} {
			if v, ok := f.Int("tokenizer.ggml." + k + "_token_id"); ok {
				ids = append(ids, fmt.Sprintf("%s %d", k, v))
			}
		}
		if len(ids) > 0 {
			row("special tokens", strings.Join(ids, ", "))
		}
		if tmpl, ok := f.String("tokenizer.chat_template"); ok {
			row("chat template", fmt.Sprintf("present (%d bytes)", len(tmpl)))
		}
	} else {
		row("tokenizer", "none in file")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return cfgErr
}

func humanBytes(n int64) string {
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

func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
