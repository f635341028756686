package hf

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// ConvertOptions configure Convert. The zero value gives the defaults.
type ConvertOptions struct {
	// Type encodes the projections: kernels.I2_S (the default), TQ2_0 or
	// TQ1_0 keep them ternary (embeddings and lm head stay in their stored
	// float type); F16 writes every matrix as fp16 floats, for tools that
	// quantise by themselves. The engine multiplies F16 projections in
	// float, without quantising activations.
	Type kernels.Type
	// Name is general.name; empty means the config's _name_or_path, or else
	// the directory's name.
	Name string
	// Threads is the number of goroutines that encode weights; 0 means one
	// per CPU.
	Threads int
}

// OutputTypes are the --type names Convert accepts, by kernels type.
var OutputTypes = map[string]kernels.Type{
	"i2_s":  kernels.I2_S,
	"tq2_0": kernels.TQ2_0,
	"tq1_0": kernels.TQ1_0,
	"f16":   kernels.F16,
}

// ParseOutputType reads a --type name (i2_s, tq2_0, tq1_0, f16; any case).
func ParseOutputType(s string) (kernels.Type, error) {
	if t, ok := OutputTypes[strings.ToLower(s)]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("unknown output type %q (want i2_s, tq2_0, tq1_0 or f16)", s)
}

// fileTypes are llama.cpp's general.file_type values (enum llama_ftype).
var fileTypes = map[kernels.Type]uint32{kernels.F16: 1, kernels.TQ1_0: 36, kernels.TQ2_0: 37}

// Convert writes the Hugging Face model in dir as a GGUF file at out, with
// its tokenizer embedded. The architecture is "bitnet-b1.58" for BitNet
// b1.58 2B4T (ReLU², sub-norms), "bitnet" for 1bitLLM (with
// bitnet.hidden_activation only when the FFN uses ReLU²) and "llama" for
// the Llama family, whose Q and K rows are permuted as llama.cpp's converter
// does. The file is written atomically: a cancelled or failed conversion
// leaves nothing at out.
func Convert(ctx context.Context, dir, out string, opts ConvertOptions) error {
	if opts.Type == 0 {
		opts.Type = kernels.I2_S
	}
	if _, ok := fileTypes[opts.Type]; !ok && opts.Type != kernels.I2_S {
		return fmt.Errorf("convert: output type %v is not supported (want I2_S, TQ2_0, TQ1_0 or F16)", opts.Type)
	}
	ternary := kernels.I2_S
	if opts.Type.Ternary() {
		ternary = opts.Type
	}
	tok, err := LoadTokenizer(dir)
	if err != nil {
		return fmt.Errorf("convert %s: %w", dir, err)
	}
	d, err := Open(dir, Options{Ternary: ternary, Threads: opts.Threads})
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	defer d.Close()

	w := gguf.NewWriter()
	d.addMetadata(w, opts)
	tok.AddToGGUF(w)
	for _, name := range d.order {
		if err := d.addTensor(ctx, w, d.tensors[name], opts.Type); err != nil {
			return fmt.Errorf("convert %s: %w", dir, err)
		}
	}
	if err := w.WriteFile(out); err != nil {
		return fmt.Errorf("convert %s: write %s: %w", dir, out, err)
	}
	return nil
}

// addMetadata writes the architecture keys the engine and llama.cpp read.
func (d *Dir) addMetadata(w *gguf.Writer, opts ConvertOptions) {
	c := &d.Config.Model
	arch := c.Arch
	name := opts.Name
	if name == "" {
		name = d.Config.Name
	}
	if name == "" {
		name = filepath.Base(filepath.Clean(d.Path))
	}
	w.AddKV("general.architecture", arch)
	w.AddKV("general.name", name)
	if ft, ok := fileTypes[opts.Type]; ok {
		w.AddKV("general.file_type", ft)
	}
	if opts.Type.Ternary() {
		w.AddKV("general.quantization_version", uint32(2))
	}
	k := func(s string) string { return arch + "." + s }
	w.AddKV(k("vocab_size"), uint32(c.VocabSize))
	w.AddKV(k("context_length"), uint32(c.ContextLength))
	w.AddKV(k("embedding_length"), uint32(c.Hidden))
	w.AddKV(k("feed_forward_length"), uint32(c.FFN))
	w.AddKV(k("block_count"), uint32(c.Layers))
	w.AddKV(k("attention.head_count"), uint32(c.Heads))
	w.AddKV(k("attention.head_count_kv"), uint32(c.KVHeads))
	if c.HeadDim != c.Hidden/c.Heads || c.Hidden%c.Heads != 0 {
		w.AddKV(k("attention.key_length"), uint32(c.HeadDim))
		w.AddKV(k("attention.value_length"), uint32(c.HeadDim))
	}
	w.AddKV(k("attention.layer_norm_rms_epsilon"), c.RMSEps)
	w.AddKV(k("rope.freq_base"), float32(c.RopeTheta))
	w.AddKV(k("rope.dimension_count"), uint32(c.RopeDims))
	// bitnet-b1.58 implies ReLU²; the other architectures default to SiLU.
	if c.Activation == model.ReLU2 && arch != "bitnet-b1.58" {
		w.AddKV(k("hidden_activation"), c.Activation.String())
	}
}

// addTensor adds one tensor, converting it to the output type: vectors are
// F32; ternary matrices keep the encoding they were opened with, or become
// F16; float matrices keep their type unless the output is F16. Q and K rows
// of the llama architecture are permuted on the way.
func (d *Dir) addTensor(ctx context.Context, w *gguf.Writer, e *entry, outType kernels.Type) error {
	if e.vector {
		m, err := kernels.NewMatrix(e.typ, 1, e.cols, e.data)
		if err != nil {
			return fmt.Errorf("%s: %w", e.source, err)
		}
		data, _ := kernels.Encode(kernels.F32, m.Dequantize(), e.cols)
		w.AddTensor(e.name, kernels.F32, e.dims(), data)
		return nil
	}
	m, err := kernels.NewMatrix(e.typ, e.rows, e.cols, e.data)
	if err != nil {
		return fmt.Errorf("%s: %w", e.source, err)
	}
	order := func(r int) int { return r }
	if e.rowsPerHead > 0 {
		order = func(r int) int { return permutedRow(r, e.rowsPerHead) }
	}
	if outType == kernels.F16 && e.typ != kernels.F16 {
		w.AddTensorFunc(e.name, kernels.F16, e.dims(), func(out io.Writer) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return writeF16Rows(out, m, order)
		})
		return nil
	}
	rowBytes, _ := e.typ.RowBytes(e.cols)
	trailer := e.data[e.rows*rowBytes:] // I2_S: the scale and its padding
	w.AddTensorFunc(e.name, e.typ, e.dims(), func(out io.Writer) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for r := 0; r < e.rows; r++ {
			if _, err := out.Write(m.Row(order(r))); err != nil {
				return err
			}
		}
		_, err := out.Write(trailer)
		return err
	})
	return nil
}

// permutedRow returns the source row of row r of a Q or K matrix in
// llama.cpp's "llama" layout: within each head of hd rows, rows (i, i+hd/2)
// of the rotate-half layout become rows (2i, 2i+1), so that RoPE on
// adjacent pairs computes what rotate-half RoPE computes on the original.
func permutedRow(r, hd int) int {
	h, j := r/hd, r%hd
	return h*hd + j/2 + (j%2)*(hd/2)
}

// writeF16Rows writes m's rows, in the given order, as fp16.
func writeF16Rows(out io.Writer, m *kernels.Matrix, order func(int) int) error {
	row := make([]float32, m.Cols)
	buf := make([]byte, 2*m.Cols)
	for r := 0; r < m.Rows; r++ {
		m.DequantizeRow(order(r), row)
		for i, v := range row {
			binary.LittleEndian.PutUint16(buf[2*i:], kernels.F32ToF16(v))
		}
		if _, err := out.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
