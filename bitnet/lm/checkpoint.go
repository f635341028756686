package lm

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// A checkpoint is a GGUF file (not loadable by the engine) holding
// everything a run needs to continue exactly where it stopped: the model
// shape, the training options, the step, the tokenizer, every parameter and
// both AdamW moments as F32 tensors, and fingerprints of the data.

// checkpointArch marks a file as a checkpoint rather than a model.
const checkpointArch = "bitnet-lm-checkpoint"

// Checkpoint metadata keys.
const (
	keyVocab, keyDim, keyLayers        = "lm.vocab", "lm.dim", "lm.layers"
	keyHeads, keyKVHeads, keyFFN       = "lm.heads", "lm.kv_heads", "lm.ffn"
	keyContext, keyActivation          = "lm.context", "lm.activation"
	keyRopeTheta, keyNormEps, keyFloat = "lm.rope_theta", "lm.norm_eps", "lm.float"

	keyStep, keyAdamSteps         = "train.step", "train.adam_steps"
	keyTokens, keyElapsed         = "train.tokens", "train.elapsed_seconds"
	keyTrainHash, keyValidHash    = "train.corpus_hash", "train.valid_hash"
	keySteps, keyBatch, keyAccum  = "train.opt.steps", "train.opt.batch", "train.opt.accum"
	keyLR, keyMinLR, keyWarmup    = "train.opt.lr", "train.opt.min_lr", "train.opt.warmup"
	keyWD, keyClip, keySeed       = "train.opt.weight_decay", "train.opt.clip", "train.opt.seed"
	keyBeta1, keyBeta2, keyAdamEp = "train.opt.beta1", "train.opt.beta2", "train.opt.eps"
	keyTrainFiles, keyValidFiles  = "train.opt.train_files", "train.opt.valid_files"
	keyEvalChunks                 = "train.opt.eval_chunks"
)

// State is what a checkpoint restores: the model, its tokenizer, the
// optimizer and the position of the run.
type State struct {
	Model     *Model
	Tokenizer *tokenizer.Tokenizer
	Optimizer *AdamW
	Options   Options
	// Step is the number of optimizer steps taken.
	Step int
	// Tokens is the number of training tokens processed.
	Tokens int64
	// Elapsed is the training time spent so far, in seconds, over all
	// sessions of the run.
	Elapsed float64
	// TrainHash and ValidHash fingerprint the token streams (Corpus.Hash).
	TrainHash, ValidHash uint64
}

// SaveCheckpoint writes s to path atomically.
func SaveCheckpoint(path string, s *State) error {
	w := gguf.NewWriter()
	w.AddKV("general.architecture", checkpointArch)
	c, o := s.Model.Config, s.Options
	for _, kv := range []struct {
		k string
		v any
	}{
		{keyVocab, uint32(c.Vocab)}, {keyDim, uint32(c.Dim)}, {keyLayers, uint32(c.Layers)},
		{keyHeads, uint32(c.Heads)}, {keyKVHeads, uint32(c.KVHeads)}, {keyFFN, uint32(c.FFN)},
		{keyContext, uint32(c.Context)}, {keyActivation, c.Activation.String()},
		{keyRopeTheta, c.RopeTheta}, {keyNormEps, c.NormEps}, {keyFloat, c.Float},
		{keyStep, uint64(s.Step)}, {keyAdamSteps, uint64(s.Optimizer.Steps)},
		{keyTokens, uint64(s.Tokens)}, {keyElapsed, s.Elapsed},
		{keyTrainHash, s.TrainHash}, {keyValidHash, s.ValidHash},
		{keySteps, uint64(o.Steps)}, {keyBatch, uint32(o.Batch)}, {keyAccum, uint32(o.Accum)},
		{keyLR, o.LR}, {keyMinLR, o.MinLR}, {keyWarmup, uint64(o.Warmup)},
		{keyWD, o.WeightDecay}, {keyClip, o.ClipNorm}, {keySeed, o.Seed},
		{keyBeta1, s.Optimizer.Beta1}, {keyBeta2, s.Optimizer.Beta2}, {keyAdamEp, s.Optimizer.Eps},
		{keyTrainFiles, nonNil(o.TrainFiles)}, {keyValidFiles, nonNil(o.ValidFiles)},
		{keyEvalChunks, uint32(o.EvalChunks)},
	} {
		w.AddKV(kv.k, kv.v)
	}
	s.Tokenizer.AddToGGUF(w)
	for i, p := range s.Model.params {
		m, v := s.Optimizer.moments(i)
		for _, t := range []struct {
			name string
			data []float32
		}{{p.Name, p.Data}, {"adam.m." + p.Name, m}, {"adam.v." + p.Name, v}} {
			w.AddTensor(t.name, kernels.F32, []uint64{uint64(len(t.data))}, f32Bytes(t.data))
		}
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint.
func LoadCheckpoint(path string) (*State, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	defer f.Close()
	s, err := stateFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	return s, nil
}

// checkpointReader records the first missing or mistyped key.
type checkpointReader struct {
	f   *gguf.File
	err error
}

func (r *checkpointReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *checkpointReader) int(key string) int {
	v, ok := r.f.Int(key)
	if !ok || v < 0 || v > 1<<40 {
		r.fail("missing or invalid %s", key)
	}
	return int(v)
}

func (r *checkpointReader) u64(key string) uint64 {
	v, ok := r.f.Get(key)
	if !ok {
		r.fail("missing %s", key)
		return 0
	}
	u, ok := v.Any().(uint64)
	if !ok {
		r.fail("%s is not a uint64", key)
	}
	return u
}

func (r *checkpointReader) float(key string) float64 {
	v, ok := r.f.Float(key)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		r.fail("missing or invalid %s", key)
	}
	return v
}

func (r *checkpointReader) strings(key string) []string {
	v, ok := r.f.Strings(key)
	if !ok {
		r.fail("missing %s", key)
	}
	return v
}

func stateFromGGUF(f *gguf.File) (*State, error) {
	if a := f.Architecture(); a != checkpointArch {
		return nil, fmt.Errorf("not a training checkpoint (architecture %q)", a)
	}
	r := &checkpointReader{f: f}
	act, _ := f.String(keyActivation)
	float, _ := f.Bool(keyFloat)
	cfg := Config{
		Vocab: r.int(keyVocab), Dim: r.int(keyDim), Layers: r.int(keyLayers), Heads: r.int(keyHeads),
		KVHeads: r.int(keyKVHeads), FFN: r.int(keyFFN), Context: r.int(keyContext),
		RopeTheta: r.float(keyRopeTheta), NormEps: float32(r.float(keyNormEps)), Float: float,
	}
	o := Options{
		Steps: r.int(keySteps), Batch: r.int(keyBatch), Accum: r.int(keyAccum),
		LR: r.float(keyLR), MinLR: r.float(keyMinLR), Warmup: r.int(keyWarmup),
		WeightDecay: r.float(keyWD), ClipNorm: r.float(keyClip), Seed: r.u64(keySeed),
		TrainFiles: r.strings(keyTrainFiles), ValidFiles: r.strings(keyValidFiles), EvalChunks: r.int(keyEvalChunks),
	}
	s := &State{
		Options: o, Step: r.int(keyStep), Tokens: int64(r.u64(keyTokens)), Elapsed: r.float(keyElapsed),
		TrainHash: r.u64(keyTrainHash), ValidHash: r.u64(keyValidHash),
	}
	beta1, beta2, eps := r.float(keyBeta1), r.float(keyBeta2), r.float(keyAdamEp)
	adamSteps := r.int(keyAdamSteps)
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if cfg.Activation, err = ParseActivation(act); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s.Tokenizer, err = tokenizer.FromGGUF(f); err != nil {
		return nil, err
	}
	if s.Tokenizer.VocabSize() != cfg.Vocab {
		return nil, fmt.Errorf("tokenizer has %d tokens, the model %d", s.Tokenizer.VocabSize(), cfg.Vocab)
	}
	// Every value is stored three times (weights and two moments); check
	// that the file holds them before allocating the model.
	var stored uint64
	for i := range f.Tensors {
		stored += f.Tensors[i].Elems()
	}
	if want := 3 * uint64(cfg.ParamCount()); stored != want {
		return nil, fmt.Errorf("the file holds %d values, the model and its moments need %d", stored, want)
	}
	// The weights are overwritten below; the seed does not matter.
	if s.Model, err = NewModel(cfg, newRand(0, 0)); err != nil {
		return nil, err
	}
	s.Optimizer = NewAdamW(s.Model.params, float32(beta1), float32(beta2), float32(eps), float32(o.WeightDecay))
	s.Optimizer.Steps = adamSteps
	for i, p := range s.Model.params {
		m, v := s.Optimizer.moments(i)
		for _, t := range []struct {
			name string
			dst  []float32
		}{{p.Name, p.Data}, {"adam.m." + p.Name, m}, {"adam.v." + p.Name, v}} {
			if err := readF32(f, t.name, t.dst); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// readF32 copies the F32 tensor name, which must hold len(dst) values.
func readF32(f *gguf.File, name string, dst []float32) error {
	t, ok := f.Tensor(name)
	if !ok {
		return fmt.Errorf("missing tensor %s", name)
	}
	if t.Type != kernels.F32 || t.Elems() != uint64(len(dst)) || len(t.Data) != 4*len(dst) {
		return fmt.Errorf("tensor %s is %v with %d values, want F32 with %d", name, t.Type, t.Elems(), len(dst))
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return nil
}
