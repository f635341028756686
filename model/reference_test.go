package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// This file checks architectures the golden data does not cover against a
// plain float64 forward pass written straight from the maths (DESIGN.md §3),
// one token at a time, independent of the engine's batching and kernels.

// refModel is a model in float64 with its weights as [out][in] matrices.
type refModel struct {
	cfg          Config
	embd, output [][]float64
	outNorm      []float64
	layers       []refLayer
	neox         bool
	subNorms     bool
	// ropeFreqs divides each pair's frequency (rope_freqs.weight) when not
	// nil; linear > 0 divides positions (rope.scaling.type linear).
	ropeFreqs []float64
	linear    float64
}

type refLayer struct {
	attnNorm, ffnNorm, attnSub, ffnSub []float64
	q, k, v, o, gate, up, down         [][]float64
}

func refRMS(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * inv * w[i]
	}
	return out
}

func refMatVec(w [][]float64, x []float64) []float64 {
	out := make([]float64, len(w))
	for r := range w {
		for c, v := range w[r] {
			out[r] += v * x[c]
		}
	}
	return out
}

func (m *refModel) rope(x []float64, pos int) {
	hd, dims := m.cfg.HeadDim, m.cfg.RopeDims
	for h := 0; h < len(x)/hd; h++ {
		for i := 0; i < dims/2; i++ {
			p := float64(pos)
			if m.linear > 0 {
				p /= m.linear
			}
			ang := p * math.Pow(m.cfg.RopeTheta, -2*float64(i)/float64(dims))
			if m.ropeFreqs != nil {
				ang /= m.ropeFreqs[i]
			}
			a, b := h*hd+2*i, h*hd+2*i+1
			if m.neox {
				a, b = h*hd+i, h*hd+i+dims/2
			}
			xa, xb := x[a], x[b]
			x[a] = xa*math.Cos(ang) - xb*math.Sin(ang)
			x[b] = xa*math.Sin(ang) + xb*math.Cos(ang)
		}
	}
}

// logits runs the sequence and returns the logits of every position.
func (m *refModel) logits(seq []int) [][]float64 {
	c := &m.cfg
	eps := float64(c.RMSEps)
	var keys, vals [][][]float64 // [layer][pos][kvDim]
	keys = make([][][]float64, c.Layers)
	vals = make([][][]float64, c.Layers)
	var out [][]float64
	for pos, tok := range seq {
		x := append([]float64(nil), m.embd[tok]...)
		for l, ly := range m.layers {
			h := refRMS(x, ly.attnNorm, eps)
			q, k, v := refMatVec(ly.q, h), refMatVec(ly.k, h), refMatVec(ly.v, h)
			m.rope(q, pos)
			m.rope(k, pos)
			keys[l] = append(keys[l], k)
			vals[l] = append(vals[l], v)
			att := make([]float64, len(q))
			group := c.Heads / c.KVHeads
			for hd := 0; hd < c.Heads; hd++ {
				off, kvOff := hd*c.HeadDim, (hd/group)*c.HeadDim
				scores := make([]float64, pos+1)
				mx := math.Inf(-1)
				for p := 0; p <= pos; p++ {
					for i := 0; i < c.HeadDim; i++ {
						scores[p] += q[off+i] * keys[l][p][kvOff+i]
					}
					scores[p] /= math.Sqrt(float64(c.HeadDim))
					mx = math.Max(mx, scores[p])
				}
				var sum float64
				for p := range scores {
					scores[p] = math.Exp(scores[p] - mx)
					sum += scores[p]
				}
				for p := range scores {
					for i := 0; i < c.HeadDim; i++ {
						att[off+i] += scores[p] / sum * vals[l][p][kvOff+i]
					}
				}
			}
			if m.subNorms {
				att = refRMS(att, ly.attnSub, eps)
			}
			for i, v := range refMatVec(ly.o, att) {
				x[i] += v
			}
			h = refRMS(x, ly.ffnNorm, eps)
			g, u := refMatVec(ly.gate, h), refMatVec(ly.up, h)
			for i := range g {
				if c.Activation == ReLU2 {
					g[i] = math.Pow(math.Max(g[i], 0), 2) * u[i]
				} else {
					g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
				}
			}
			if m.subNorms {
				g = refRMS(g, ly.ffnSub, eps)
			}
			for i, v := range refMatVec(ly.down, g) {
				x[i] += v
			}
		}
		out = append(out, refMatVec(m.output, refRMS(x, m.outNorm, eps)))
	}
	return out
}

// randomModel makes a random float model with the given config.
func randomModel(cfg Config, rng *rand.Rand) *refModel {
	mat := func(rows, cols int, std float64) [][]float64 {
		w := make([][]float64, rows)
		for r := range w {
			w[r] = make([]float64, cols)
			for c := range w[r] {
				w[r][c] = rng.NormFloat64() * std
			}
		}
		return w
	}
	vec := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1 + 0.1*rng.NormFloat64()
		}
		return v
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVDim()
	s := 1 / math.Sqrt(float64(cfg.Hidden))
	m := &refModel{cfg: cfg, embd: mat(cfg.VocabSize, cfg.Hidden, 1), output: mat(cfg.VocabSize, cfg.Hidden, s), outNorm: vec(cfg.Hidden)}
	for l := 0; l < cfg.Layers; l++ {
		m.layers = append(m.layers, refLayer{
			attnNorm: vec(cfg.Hidden), ffnNorm: vec(cfg.Hidden), attnSub: vec(q), ffnSub: vec(cfg.FFN),
			q: mat(q, cfg.Hidden, s), k: mat(kv, cfg.Hidden, s), v: mat(kv, cfg.Hidden, s), o: mat(cfg.Hidden, q, s),
			gate: mat(cfg.FFN, cfg.Hidden, s), up: mat(cfg.FFN, cfg.Hidden, s), down: mat(cfg.Hidden, cfg.FFN, 1/math.Sqrt(float64(cfg.FFN))),
		})
	}
	return m
}

// permuteQK reorders the rows of a Q or K matrix the way llama.cpp's HF
// converter does for arch "llama": within each head, rows (i, i + d/2) of the
// rotate-half layout become rows (2i, 2i+1), so that RoPE on adjacent pairs
// of the permuted weights equals rotate-half RoPE on the original ones.
func permuteQK(w [][]float64, heads int) [][]float64 {
	hd := len(w) / heads
	out := make([][]float64, len(w))
	for h := 0; h < heads; h++ {
		for i := 0; i < hd/2; i++ {
			out[h*hd+2*i] = w[h*hd+i]
			out[h*hd+2*i+1] = w[h*hd+i+hd/2]
		}
	}
	return out
}

// writeRef writes the model as GGUF with the given architecture, projection
// type and embedding/output types; weights of ternary types are first made
// ternary by the caller.
func writeRef(t *testing.T, m *refModel, arch string, projType, embdType kernels.Type, permute bool) string {
	t.Helper()
	c := &m.cfg
	w := gguf.NewWriter()
	w.AddKV("general.architecture", arch)
	k := func(s string) string { return arch + "." + s }
	w.AddKV(k("vocab_size"), uint32(c.VocabSize))
	w.AddKV(k("context_length"), uint32(c.ContextLength))
	w.AddKV(k("embedding_length"), uint32(c.Hidden))
	w.AddKV(k("feed_forward_length"), uint32(c.FFN))
	w.AddKV(k("block_count"), uint32(c.Layers))
	w.AddKV(k("attention.head_count"), uint32(c.Heads))
	w.AddKV(k("attention.head_count_kv"), uint32(c.KVHeads))
	w.AddKV(k("attention.layer_norm_rms_epsilon"), c.RMSEps)
	w.AddKV(k("rope.freq_base"), float32(c.RopeTheta))
	w.AddKV(k("rope.dimension_count"), uint32(c.RopeDims))
	if c.Activation == ReLU2 && arch == "bitnet" {
		w.AddKV(k("hidden_activation"), "relu2")
	}
	if m.linear > 0 {
		w.AddKV(k("rope.scaling.type"), "linear")
		w.AddKV(k("rope.scaling.factor"), float32(m.linear))
	}
	add := func(name string, typ kernels.Type, rows [][]float64) {
		flat := make([]float32, 0, len(rows)*len(rows[0]))
		for _, r := range rows {
			for _, v := range r {
				flat = append(flat, float32(v))
			}
		}
		data, err := kernels.Encode(typ, flat, len(rows[0]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w.AddTensor(name, typ, []uint64{uint64(len(rows[0])), uint64(len(rows))}, data)
	}
	addVec := func(name string, v []float64) {
		flat := make([]float32, len(v))
		for i := range v {
			flat[i] = float32(v[i])
		}
		data, _ := kernels.Encode(kernels.F32, flat, len(v))
		w.AddTensor(name, kernels.F32, []uint64{uint64(len(v))}, data)
	}
	if m.ropeFreqs != nil {
		addVec("rope_freqs.weight", m.ropeFreqs)
	}
	add("token_embd.weight", embdType, m.embd)
	add("output.weight", embdType, m.output)
	addVec("output_norm.weight", m.outNorm)
	for l, ly := range m.layers {
		p := fmt.Sprintf("blk.%d.", l)
		addVec(p+"attn_norm.weight", ly.attnNorm)
		addVec(p+"ffn_norm.weight", ly.ffnNorm)
		if m.subNorms {
			addVec(p+"attn_sub_norm.weight", ly.attnSub)
			addVec(p+"ffn_sub_norm.weight", ly.ffnSub)
		}
		q, kk := ly.q, ly.k
		if permute {
			q, kk = permuteQK(q, c.Heads), permuteQK(kk, c.KVHeads)
		}
		add(p+"attn_q.weight", projType, q)
		add(p+"attn_k.weight", projType, kk)
		add(p+"attn_v.weight", projType, ly.v)
		add(p+"attn_output.weight", projType, ly.o)
		add(p+"ffn_gate.weight", projType, ly.gate)
		add(p+"ffn_up.weight", projType, ly.up)
		add(p+"ffn_down.weight", projType, ly.down)
	}
	path := filepath.Join(t.TempDir(), arch+".gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// roundTrip replaces every weight by its value after encoding as typ, so
// the reference computes with exactly the weights the file holds.
func (m *refModel) roundTrip(t *testing.T, projType, embdType kernels.Type) {
	t.Helper()
	rt := func(rows [][]float64, typ kernels.Type) {
		flat := make([]float32, 0, len(rows)*len(rows[0]))
		for _, r := range rows {
			for _, v := range r {
				flat = append(flat, float32(v))
			}
		}
		data, err := kernels.Encode(typ, flat, len(rows[0]))
		if err != nil {
			t.Fatal(err)
		}
		mat, err := kernels.NewMatrix(typ, len(rows), len(rows[0]), data)
		if err != nil {
			t.Fatal(err)
		}
		deq := mat.Dequantize()
		for r := range rows {
			for c := range rows[r] {
				rows[r][c] = float64(deq[r*len(rows[0])+c])
			}
		}
	}
	rt(m.embd, embdType)
	rt(m.output, embdType)
	for _, ly := range m.layers {
		for _, w := range [][][]float64{ly.q, ly.k, ly.v, ly.o, ly.gate, ly.up, ly.down} {
			rt(w, projType)
		}
	}
}

func compareWithRef(t *testing.T, path string, ref [][]float64, seq []int, tol float64) {
	t.Helper()
	m, err := Load(path, Options{Activations: ActFloat, BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.NewSession()
	vocab := m.Config.VocabSize
	got := make([]float32, len(seq)*vocab)
	if err := s.Forward(context.Background(), seq, got); err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range seq {
		for v := 0; v < vocab; v++ {
			worst = math.Max(worst, math.Abs(float64(got[i*vocab+v])-ref[i][v]))
		}
	}
	if worst > tol {
		t.Fatalf("max |engine - reference| = %g > %g", worst, tol)
	}
}

var refConfig = Config{
	VocabSize: 300, Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
	ContextLength: 32, RMSEps: 1e-5, RopeTheta: 10000, RopeDims: 64, Activation: SiLU,
}

var refSeq = []int{3, 17, 250, 4, 99, 123, 7, 42, 299, 0, 5}

// TestLlamaArchitecture: no sub-norms, SwiGLU, adjacent-pair RoPE on Q/K
// permuted as llama.cpp's converter does, a separate output.weight; weights
// in each float type llama GGUFs use.
func TestLlamaArchitecture(t *testing.T) {
	for _, typ := range []kernels.Type{kernels.F32, kernels.F16, kernels.BF16, kernels.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			ref := randomModel(refConfig, rand.New(rand.NewPCG(1, uint64(typ))))
			ref.neox = true // the un-permuted weights use rotate-half
			ref.roundTrip(t, typ, typ)
			path := writeRef(t, ref, "llama", typ, typ, true)
			compareWithRef(t, path, ref.logits(refSeq), refSeq, 1e-3)
		})
	}
}

// TestLlamaRopeScaling runs arch llama files with Llama 3.1-style
// rope_freqs factors (pair i's frequency divided by factor i), with linear
// RoPE scaling (positions divided by rope.scaling.factor), and with both,
// against the float64 reference computing those angles from the maths.
// Each file is also checked to differ from the unscaled reference, so the
// comparison would catch scaling being ignored.
func TestLlamaRopeScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	// Factors as Llama 3.1's scheme makes them: 1 for the fastest pairs,
	// up to 8 for the slowest, smooth in between.
	freqs := make([]float64, refConfig.RopeDims/2)
	for i := range freqs {
		freqs[i] = float64(float32(1 + 7*float64(i)/float64(len(freqs)-1)*(0.8+0.2*rng.Float64())))
	}
	seq := []int{3, 17, 250, 4, 99, 123, 7, 42, 299, 0, 5, 77, 150, 201, 33, 8, 64, 128, 255, 1}
	for _, c := range []struct {
		name   string
		freqs  []float64
		linear float64
	}{
		{"rope_freqs", freqs, 0},
		{"linear 4", nil, 4},
		{"linear 0.5", nil, 0.5},
		{"rope_freqs and linear 2", freqs, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := randomModel(refConfig, rand.New(rand.NewPCG(6, uint64(len(c.name)))))
			ref.neox = true
			ref.ropeFreqs, ref.linear = c.freqs, c.linear
			path := writeRef(t, ref, "llama", kernels.F32, kernels.F32, true)
			want := ref.logits(seq)
			compareWithRef(t, path, want, seq, 1e-3)
			checkInfoRope(t, path, c.freqs != nil, c.linear)

			// The scaling matters: without it the logits are far off.
			ref.ropeFreqs, ref.linear = nil, 0
			plain := ref.logits(seq)
			var diff float64
			for i := range want {
				for v := range want[i] {
					diff = math.Max(diff, math.Abs(want[i][v]-plain[i][v]))
				}
			}
			if diff < 0.05 {
				t.Fatalf("scaled and unscaled references differ by only %g", diff)
			}
		})
	}
}

// TestBitnetArchitectureFloat checks arch "bitnet" with sub-norms against
// the reference, for SiLU and for ReLU² selected by metadata.
func TestBitnetArchitectureFloat(t *testing.T) {
	for _, act := range []Activation{SiLU, ReLU2} {
		cfg := refConfig
		cfg.Activation = act
		ref := randomModel(cfg, rand.New(rand.NewPCG(2, uint64(act))))
		ref.neox, ref.subNorms = true, true
		path := writeRef(t, ref, "bitnet", kernels.F32, kernels.F32, false)
		compareWithRef(t, path, ref.logits(refSeq), refSeq, 1e-3)
	}
}

// TestArchitectureErrors: an unknown architecture lists the supported ones,
// and an activation key that contradicts bitnet-b1.58 is refused.
func TestArchitectureErrors(t *testing.T) {
	ref := randomModel(refConfig, rand.New(rand.NewPCG(3, 3)))
	path := writeRef(t, ref, "mamba", kernels.F32, kernels.F32, false)
	_, err := Load(path, Options{})
	if err == nil || !containsAll(err.Error(), "mamba", "bitnet-b1.58", "bitnet-25", "bitnet", "llama") {
		t.Fatalf("unknown architecture error: %v", err)
	}
	// A llama file lacking a tensor names it.
	ref.subNorms = false
	path = writeRef(t, ref, "bitnet", kernels.F32, kernels.F32, false)
	_, err = Load(path, Options{})
	if err == nil || !containsAll(err.Error(), "attn_sub_norm") {
		t.Fatalf("missing sub-norm error: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// checkInfoRope checks that `bitnet info` (WriteInfo) reports the RoPE
// scaling of the file at path.
func checkInfoRope(t *testing.T, path string, freqs bool, linear float64) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	if err := WriteInfo(&b, f); err != nil {
		t.Fatal(err)
	}
	info := b.String()
	if got := strings.Contains(info, "rope_freqs"); got != freqs {
		t.Errorf("info mentions rope_freqs: %v, want %v:\n%s", got, freqs, info)
	}
	want := fmt.Sprintf("linear scaling x%g", linear)
	if got := strings.Contains(info, "linear scaling"); got != (linear != 0) || linear != 0 && !strings.Contains(info, want) {
		t.Errorf("info does not report linear factor %g as %q:\n%s", linear, want, info)
	}
}
