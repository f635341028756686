package hf

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/safetensors"
)

// Options configure how a directory's weights are prepared. The zero value
// gives the defaults.
type Options struct {
	// Ternary is the encoding ternary projections are held in: kernels.I2_S
	// (the default: one f32 scale per tensor, as the models define it),
	// kernels.TQ2_0 or kernels.TQ1_0 (an fp16 scale per 256 weights).
	Ternary kernels.Type
	// Threads is the number of goroutines that encode weights; 0 means one
	// per CPU.
	Threads int
}

// Dir is a Hugging Face model directory opened for the engine: its
// config.json parsed and its tensors presented under their GGUF names, float
// tensors as views of the memory-mapped safetensors files and ternary
// projections re-encoded once into Options.Ternary. It implements
// model.TensorSource.
type Dir struct {
	// Path is the directory.
	Path string
	// Config is its parsed config.json.
	Config *Config
	// Tied reports whether the lm head is the token embedding matrix.
	Tied bool

	weights *safetensors.Model
	tensors map[string]*entry
	order   []string // GGUF names in file order
}

// entry is one tensor in the engine's form, under its GGUF name.
type entry struct {
	name    string // GGUF name
	source  string // Hugging Face name and file, for messages
	typ     kernels.Type
	rows    int // 1 for vectors
	cols    int
	vector  bool
	data    []byte
	ternary bool // made ternary at load (packed or latent weights)
	// rowsPerHead is the head size of a Q or K matrix (0 otherwise): the
	// rows the llama layout permutes.
	rowsPerHead int
}

// dims returns the GGUF dimensions, contiguous first.
func (e *entry) dims() []uint64 {
	if e.vector {
		return []uint64{uint64(e.cols)}
	}
	return []uint64{uint64(e.cols), uint64(e.rows)}
}

// Tensor implements model.TensorSource.
func (d *Dir) Tensor(name string) (kernels.Type, []uint64, []byte, bool) {
	e, ok := d.tensors[name]
	if !ok {
		return 0, nil, nil, false
	}
	return e.typ, e.dims(), e.data, true
}

// Close releases the memory-mapped weights. Models built from the directory
// must not be used afterwards.
func (d *Dir) Close() error {
	if d.weights == nil {
		return nil
	}
	err := d.weights.Close()
	d.weights = nil
	return err
}

// Open reads dir's config.json, opens its safetensors weights (one file or
// shards) and prepares every tensor the engine needs, checking each against
// the configuration.
func Open(dir string, opts Options) (*Dir, error) {
	if opts.Ternary == 0 {
		opts.Ternary = kernels.I2_S
	}
	if !opts.Ternary.Ternary() {
		return nil, fmt.Errorf("open %s: %v is not a ternary type", dir, opts.Ternary)
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	weights, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: dir, Config: cfg, weights: weights, tensors: map[string]*entry{}}
	if err := d.prepare(opts); err != nil {
		weights.Close()
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return d, nil
}

// ternaryJob is a projection to encode.
type ternaryJob struct {
	e     *entry
	src   tritRows
	gamma float32
	// latent quantises a float tensor; its gamma is measured by the job.
	latent *safetensors.Tensor
}

// builder maps the Hugging Face names to GGUF ones and records the first
// error, so prepare reads like the list of tensors.
type builder struct {
	d    *Dir
	opts Options
	jobs []*ternaryJob
	err  error
}

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}

func (b *builder) add(e *entry) {
	b.d.tensors[e.name] = e
	b.d.order = append(b.d.order, e.name)
}

// prepare builds every entry, then encodes the ternary projections in
// parallel.
func (d *Dir) prepare(opts Options) error {
	c := &d.Config.Model
	b := &builder{d: d, opts: opts}
	b.float("token_embd.weight", "model.embed_tokens.weight", c.VocabSize, c.Hidden)
	b.vector("output_norm.weight", c.Hidden, "model.norm.weight")
	_, hasHead := d.weights.Tensor("lm_head.weight")
	d.Tied = !hasHead
	if tie := d.Config.TieEmbeddings; tie != nil {
		d.Tied = *tie
		if !*tie && !hasHead {
			b.fail("config.json sets tie_word_embeddings false but there is no lm_head.weight")
		}
	}
	if !d.Tied {
		b.float("output.weight", "lm_head.weight", c.VocabSize, c.Hidden)
	}
	q, kv := c.Heads*c.HeadDim, c.KVDim()
	for i := 0; i < c.Layers && b.err == nil; i++ {
		p, hp := fmt.Sprintf("blk.%d.", i), fmt.Sprintf("model.layers.%d.", i)
		b.vector(p+"attn_norm.weight", c.Hidden, hp+"input_layernorm.weight")
		b.vector(p+"ffn_norm.weight", c.Hidden, hp+"post_attention_layernorm.weight")
		if c.SubNorms {
			attn, ffn := []string{"self_attn.attn_sub_norm", "self_attn.inner_attn_ln"}, []string{"mlp.ffn_sub_norm", "mlp.ffn_layernorm"}
			if d.Config.Family == OneBitLLM {
				attn[0], attn[1] = attn[1], attn[0]
				ffn[0], ffn[1] = ffn[1], ffn[0]
			}
			b.vector(p+"attn_sub_norm.weight", q, hp+attn[0]+".weight", hp+attn[1]+".weight")
			b.vector(p+"ffn_sub_norm.weight", c.FFN, hp+ffn[0]+".weight", hp+ffn[1]+".weight")
		}
		b.projection(p+"attn_q", hp+"self_attn.q_proj", q, c.Hidden, c.HeadDim)
		b.projection(p+"attn_k", hp+"self_attn.k_proj", kv, c.Hidden, c.HeadDim)
		b.projection(p+"attn_v", hp+"self_attn.v_proj", kv, c.Hidden, 0)
		b.projection(p+"attn_output", hp+"self_attn.o_proj", c.Hidden, q, 0)
		b.projection(p+"ffn_gate", hp+"mlp.gate_proj", c.FFN, c.Hidden, 0)
		b.projection(p+"ffn_up", hp+"mlp.up_proj", c.FFN, c.Hidden, 0)
		b.projection(p+"ffn_down", hp+"mlp.down_proj", c.Hidden, c.FFN, 0)
	}
	if b.err != nil {
		return b.err
	}
	return b.encode()
}

// tensor looks up a Hugging Face tensor.
func (b *builder) tensor(name string) *safetensors.Tensor {
	if b.err != nil {
		return nil
	}
	t, ok := b.d.weights.Tensor(name)
	if !ok {
		b.fail("missing tensor %s (in the safetensors files of %s)", name, b.d.Path)
		return nil
	}
	return t
}

// float maps a float matrix, zero-copy.
func (b *builder) float(name, hfName string, rows, cols int) {
	t := b.tensor(hfName)
	if t == nil {
		return
	}
	typ, ok := floatType(t.DType)
	if !ok {
		b.fail("%s has dtype %s, want F32, F16 or BF16", where(t), t.DType)
		return
	}
	if !shapeIs(t, rows, cols) {
		b.fail("%s has shape %v, want [%d %d] from config.json", where(t), t.Shape, rows, cols)
		return
	}
	b.add(&entry{name: name, source: where(t), typ: typ, rows: rows, cols: cols, data: t.Data})
}

// vector maps a 1-D float tensor found under the first of hfNames present.
func (b *builder) vector(name string, n int, hfNames ...string) {
	if b.err != nil {
		return
	}
	var t *safetensors.Tensor
	for _, hn := range hfNames {
		if t0, ok := b.d.weights.Tensor(hn); ok {
			t = t0
			break
		}
	}
	if t == nil {
		b.fail("missing tensor %s (in the safetensors files of %s)", hfNames[0], b.d.Path)
		return
	}
	typ, ok := floatType(t.DType)
	if !ok {
		b.fail("%s has dtype %s, want F32, F16 or BF16", where(t), t.DType)
		return
	}
	if len(t.Shape) != 1 || t.Shape[0] != uint64(n) {
		b.fail("%s has shape %v, want [%d] from config.json", where(t), t.Shape, n)
		return
	}
	b.add(&entry{name: name, source: where(t), typ: typ, rows: 1, cols: n, vector: true, data: t.Data})
}

// projection maps <hfName>.weight, rows x cols: packed uint8 with its
// weight_scale, float master weights quantised with absmean, or (in an
// offline-quantised model) a float layer left unquantised.
func (b *builder) projection(name, hfName string, rows, cols, headDim int) {
	t := b.tensor(hfName + ".weight")
	if t == nil {
		return
	}
	if bias, ok := b.d.weights.Tensor(hfName + ".bias"); ok {
		b.fail("%s: projections with biases are not supported", where(bias))
		return
	}
	scale, hasScale := b.d.weights.Tensor(hfName + ".weight_scale")
	e := &entry{name: name + ".weight", source: where(t), rows: rows, cols: cols}
	if headDim > 0 && b.d.Config.Model.Arch == "llama" {
		e.rowsPerHead = headDim
	}
	quant := b.d.Config.Quant
	switch {
	case t.DType == safetensors.U8:
		if !hasScale {
			b.fail("%s is packed uint8 but there is no %s.weight_scale", where(t), hfName)
			return
		}
		if quant.Method == "" {
			b.fail("%s is packed uint8 but config.json has no quantization_config saying how its weight_scale applies", where(t))
			return
		}
		if rows%4 != 0 || !shapeIs(t, rows/4, cols) {
			b.fail("%s has shape %v, want [%d %d] (packed: out/4 x in, out = %d from config.json)", where(t), t.Shape, rows/4, cols, rows)
			return
		}
		gamma, err := packedGamma(scale, quant.Scale)
		if err != nil {
			b.fail("%v", err)
			return
		}
		b.ternary(e, &ternaryJob{e: e, src: packedRows{t: t, rows: rows, cols: cols}, gamma: gamma})
	case t.DType.IsFloat():
		if !shapeIs(t, rows, cols) {
			b.fail("%s has shape %v, want [%d %d] from config.json", where(t), t.Shape, rows, cols)
			return
		}
		if hasScale {
			b.fail("%s is a float weight with a weight_scale beside it; only packed uint8 weights have a weight_scale", where(t))
			return
		}
		if quant.LatentFloats {
			b.ternary(e, &ternaryJob{e: e, latent: t})
			return
		}
		e.typ, _ = floatType(t.DType)
		e.data = t.Data
		b.add(e)
	default:
		b.fail("%s has dtype %s, want packed U8 or a float type", where(t), t.DType)
	}
}

// ternary queues a projection for encoding, checking that its rows fit the
// ternary type's blocks.
func (b *builder) ternary(e *entry, job *ternaryJob) {
	typ := b.opts.Ternary
	if e.cols%typ.BlockElems() != 0 {
		b.fail("%s: its %d input features are not a multiple of %d, which %v needs", e.source, e.cols, typ.BlockElems(), typ)
		return
	}
	e.typ, e.ternary = typ, true
	b.add(e)
	b.jobs = append(b.jobs, job)
}

// encode runs the queued jobs on Options.Threads goroutines and returns the
// first error in tensor order.
func (b *builder) encode() error {
	threads := b.opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	errs := make([]error, len(b.jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(threads, len(b.jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = b.jobs[i].run(b.opts.Ternary)
			}
		}()
	}
	for i := range b.jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (j *ternaryJob) run(typ kernels.Type) error {
	e := j.e
	if j.latent != nil {
		l, err := newLatentRows(j.latent, e.rows, e.cols)
		if err != nil {
			return fmt.Errorf("%s: %w", e.source, err)
		}
		j.src, j.gamma = l, l.gamma
	}
	data, err := encodeTernary(typ, j.src, e.rows, e.cols, j.gamma)
	if err != nil {
		return fmt.Errorf("%s: %w", e.source, err)
	}
	e.data = data
	return nil
}

func floatType(dt safetensors.DType) (kernels.Type, bool) {
	switch dt {
	case safetensors.F32:
		return kernels.F32, true
	case safetensors.F16:
		return kernels.F16, true
	case safetensors.BF16:
		return kernels.BF16, true
	}
	return 0, false
}

func shapeIs(t *safetensors.Tensor, rows, cols int) bool {
	return len(t.Shape) == 2 && t.Shape[0] == uint64(rows) && t.Shape[1] == uint64(cols)
}
