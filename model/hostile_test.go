package model

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// testFile is a small GGUF model file under construction: metadata and
// tensors that each hostile case edits before it is written.
type testFile struct {
	arch    string
	kv      map[string]any
	tensors []testTensor
}

type testTensor struct {
	name string
	typ  kernels.Type
	dims []uint64
	fill float32 // the value of every element (ternary types: all zero)
}

// shape of testFile's base model: arch llama, 2 layers, hidden 256, 4 heads
// of 64, 2 KV heads, FFN 256, vocabulary 64, ternary projections.
const (
	tfLayers, tfHidden, tfFFN, tfHeads, tfKVHeads, tfVocab = 2, 256, 256, 4, 2, 64
)

// newTestFile returns a valid model that loads.
func newTestFile() *testFile {
	const arch = "llama"
	f := &testFile{arch: arch, kv: map[string]any{}}
	k := func(s string) string { return arch + "." + s }
	f.kv["general.architecture"] = arch
	f.kv[k("vocab_size")] = uint32(tfVocab)
	f.kv[k("context_length")] = uint32(128)
	f.kv[k("embedding_length")] = uint32(tfHidden)
	f.kv[k("feed_forward_length")] = uint32(tfFFN)
	f.kv[k("block_count")] = uint32(tfLayers)
	f.kv[k("attention.head_count")] = uint32(tfHeads)
	f.kv[k("attention.head_count_kv")] = uint32(tfKVHeads)
	f.kv[k("attention.layer_norm_rms_epsilon")] = float32(1e-5)
	f.kv[k("rope.freq_base")] = float32(10000)
	toks := make([]string, tfVocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	f.kv["tokenizer.ggml.tokens"] = toks
	h, kv, ffn := uint64(tfHidden), uint64(tfKVHeads*tfHidden/tfHeads), uint64(tfFFN)
	f.add("token_embd.weight", kernels.F16, 0.5, h, tfVocab)
	f.add("output.weight", kernels.F16, 0.5, h, tfVocab)
	f.add("output_norm.weight", kernels.F32, 1, h)
	for l := 0; l < tfLayers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		f.add(p+"attn_norm.weight", kernels.F32, 1, h)
		f.add(p+"ffn_norm.weight", kernels.F32, 1, h)
		f.add(p+"attn_q.weight", kernels.TQ2_0, 0, h, h)
		f.add(p+"attn_k.weight", kernels.TQ2_0, 0, h, kv)
		f.add(p+"attn_v.weight", kernels.TQ2_0, 0, h, kv)
		f.add(p+"attn_output.weight", kernels.TQ2_0, 0, h, h)
		f.add(p+"ffn_gate.weight", kernels.TQ2_0, 0, h, ffn)
		f.add(p+"ffn_up.weight", kernels.TQ2_0, 0, h, ffn)
		f.add(p+"ffn_down.weight", kernels.TQ2_0, 0, ffn, h)
	}
	return f
}

func (f *testFile) key(s string) string { return f.arch + "." + s }

func (f *testFile) add(name string, typ kernels.Type, fill float32, dims ...uint64) {
	f.tensors = append(f.tensors, testTensor{name, typ, dims, fill})
}

func (f *testFile) remove(name string) {
	f.tensors = slices.DeleteFunc(f.tensors, func(t testTensor) bool { return t.name == name })
}

// set replaces a tensor's type and dimensions.
func (f *testFile) set(name string, typ kernels.Type, dims ...uint64) {
	for i := range f.tensors {
		if f.tensors[i].name == name {
			f.tensors[i].typ, f.tensors[i].dims = typ, dims
		}
	}
}

// bytes writes the file.
func (f *testFile) bytes(t testing.TB) []byte {
	t.Helper()
	w := gguf.NewWriter()
	keys := make([]string, 0, len(f.kv))
	for k := range f.kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.AddKV(k, f.kv[k])
	}
	for _, tn := range f.tensors {
		n := uint64(1)
		for _, d := range tn.dims {
			n *= d
		}
		var data []byte
		if tn.typ.Ternary() {
			size, err := kernels.TensorBytes(tn.typ, tn.dims[0], n)
			if err != nil {
				t.Fatalf("%s: %v", tn.name, err)
			}
			data = make([]byte, size)
		} else {
			vals := make([]float32, n)
			for i := range vals {
				vals[i] = tn.fill
			}
			var err error
			if data, err = kernels.Encode(tn.typ, vals, int(tn.dims[0])); err != nil {
				t.Fatalf("%s: %v", tn.name, err)
			}
		}
		w.AddTensor(tn.name, tn.typ, tn.dims, data)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// load parses the file's bytes and builds a model with opts, returning the
// bytes the build allocated (the parse is not counted).
func (f *testFile) load(t testing.TB, opts Options) (*Model, uint64, error) {
	t.Helper()
	file, err := gguf.Parse(f.bytes(t))
	if err != nil {
		t.Fatalf("the test file does not parse: %v", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := FromGGUF(file, opts)
	runtime.ReadMemStats(&after)
	return m, after.TotalAlloc - before.TotalAlloc, err
}

// TestHostileModelFiles builds small valid GGUF files with one thing wrong
// (a shape the tensors cannot back, a missing or mistyped tensor, a RoPE
// scaling bitnet does not run) and checks that each is refused with an
// error naming the problem, without a panic and without allocating more
// than a few megabytes (the files are under 300 KB; before the layer count
// was bounded, block_count 2^24 allocated 3.5 GB).
func TestHostileModelFiles(t *testing.T) {
	const allocLimit = 8 << 20
	base := newTestFile()
	k := base.key
	cases := []struct {
		name string
		edit func(f *testFile)
		want []string // substrings of the error
	}{
		{"block_count 2^24", func(f *testFile) { f.kv[k("block_count")] = uint32(1 << 24) },
			[]string{"16777216 layers need at least", "there are 21"}},
		{"block_count 2^24, no tensors", func(f *testFile) {
			f.kv[k("block_count")] = uint32(1 << 24)
			f.tensors = nil
		}, []string{"16777216 layers", "there are 0"}},
		{"block_count 2^32", func(f *testFile) { f.kv[k("block_count")] = uint64(1 << 32) },
			[]string{k("block_count"), "out of range"}},
		{"block_count 0", func(f *testFile) { f.kv[k("block_count")] = uint32(0) },
			[]string{k("block_count"), "out of range"}},
		{"block_count one too many", func(f *testFile) { f.kv[k("block_count")] = uint32(3) },
			[]string{"3 layers need at least 29 tensors"}},
		{"head_count 2^24", func(f *testFile) { f.kv[k("attention.head_count")] = uint32(1 << 24) },
			[]string{"embedding length 256", "head count 16777216"}},
		{"head_count not dividing hidden", func(f *testFile) { f.kv[k("attention.head_count")] = uint32(3) },
			[]string{"not a multiple of the head count 3"}},
		{"head_count_kv not dividing heads", func(f *testFile) { f.kv[k("attention.head_count_kv")] = uint32(3) },
			[]string{"KV head count 3"}},
		{"head_count_kv 2^24", func(f *testFile) { f.kv[k("attention.head_count_kv")] = uint32(1 << 24) },
			[]string{"KV head count 16777216"}},
		{"head_dim*heads != hidden", func(f *testFile) { f.kv[k("attention.key_length")] = uint32(128) },
			[]string{"blk.0.attn_q.weight", "want [256 512]"}},
		{"odd head dim", func(f *testFile) { f.kv[k("attention.key_length")] = uint32(63) },
			[]string{"head dimension 63"}},
		{"rope dims beyond head dim", func(f *testFile) { f.kv[k("rope.dimension_count")] = uint32(128) },
			[]string{"RoPE dimension count 128"}},
		{"embedding_length 2^24", func(f *testFile) { f.kv[k("embedding_length")] = uint32(1 << 24) },
			[]string{"token_embd.weight", "want [16777216 64]"}},
		{"feed_forward_length 2^24", func(f *testFile) { f.kv[k("feed_forward_length")] = uint32(1 << 24) },
			[]string{"blk.0.ffn_gate.weight", "want [256 16777216]"}},
		{"vocab_size 2^24", func(f *testFile) { f.kv[k("vocab_size")] = uint32(1 << 24) },
			[]string{"token_embd.weight", "want [256 16777216]"}},
		{"vocab_size 2^40", func(f *testFile) { f.kv[k("vocab_size")] = uint64(1 << 40) },
			[]string{k("vocab_size"), "out of range"}},
		{"token_embd rows != tokenizer", func(f *testFile) {
			delete(f.kv, k("vocab_size"))
			f.kv["tokenizer.ggml.tokens"] = f.kv["tokenizer.ggml.tokens"].([]string)[:63]
		}, []string{"token_embd.weight", "want [256 63]"}},
		{"tokenizer larger than vocab_size", func(f *testFile) {
			f.kv["tokenizer.ggml.tokens"] = append(f.kv["tokenizer.ggml.tokens"].([]string), "extra")
		}, []string{"tokenizer has 65 tokens", "is 64"}},
		{"missing projection", func(f *testFile) { f.remove("blk.1.ffn_down.weight") },
			[]string{"missing tensor blk.1.ffn_down.weight"}},
		{"missing embeddings", func(f *testFile) { f.remove("token_embd.weight") },
			[]string{"missing tensor token_embd.weight"}},
		{"k projection shape", func(f *testFile) { f.set("blk.0.attn_k.weight", kernels.TQ2_0, 256, 256) },
			[]string{"blk.0.attn_k.weight", "shape [256 256]", "want [256 128]"}},
		{"norm of the wrong length", func(f *testFile) { f.set("blk.1.attn_norm.weight", kernels.F32, 128) },
			[]string{"blk.1.attn_norm.weight", "want [256]"}},
		{"3-D projection", func(f *testFile) { f.set("blk.0.attn_q.weight", kernels.TQ2_0, 256, 256, 1) },
			[]string{"blk.0.attn_q.weight", "shape [256 256 1]"}},
		{"ternary embeddings", func(f *testFile) { f.set("token_embd.weight", kernels.TQ2_0, 256, 64) },
			[]string{"token_embd.weight", "ternary type"}},
		{"ternary norm", func(f *testFile) { f.set("output_norm.weight", kernels.TQ2_0, 256) },
			[]string{"output_norm.weight", "want a float type"}},
		{"quantised norm", func(f *testFile) { f.set("blk.0.ffn_norm.weight", kernels.Q8_0, 256) },
			[]string{"blk.0.ffn_norm.weight", "want a float type"}},
		{"rope_freqs of the wrong length", func(f *testFile) { f.add("rope_freqs.weight", kernels.F32, 1, 64) },
			[]string{"rope_freqs.weight", "want [32]"}},
		{"rope_freqs zero", func(f *testFile) { f.add("rope_freqs.weight", kernels.F32, 0, 32) },
			[]string{"rope_freqs.weight", "positive"}},
		{"rope_freqs ternary", func(f *testFile) { f.add("rope_freqs.weight", kernels.TQ2_0, 0, 256) },
			[]string{"rope_freqs.weight"}},
		{"rope scaling yarn", func(f *testFile) {
			f.kv[k("rope.scaling.type")] = "yarn"
			f.kv[k("rope.scaling.factor")] = float32(4)
		}, []string{`RoPE scaling type "yarn"`, "not supported"}},
		{"rope scaling longrope", func(f *testFile) { f.kv[k("rope.scaling.type")] = "longrope" },
			[]string{`"longrope"`, "not supported"}},
		{"rope scaling unknown", func(f *testFile) { f.kv[k("rope.scaling.type")] = "warp9" },
			[]string{`"warp9"`}},
		{"rope scaling type not a string", func(f *testFile) { f.kv[k("rope.scaling.type")] = uint32(1) },
			[]string{k("rope.scaling.type"), "not a string"}},
		{"rope scaling factor negative", func(f *testFile) {
			f.kv[k("rope.scaling.type")] = "linear"
			f.kv[k("rope.scaling.factor")] = float32(-2)
		}, []string{k("rope.scaling.factor"), "out of range"}},
		{"rope scaling factor NaN", func(f *testFile) { f.kv[k("rope.scaling.factor")] = float32(math.NaN()) },
			[]string{k("rope.scaling.factor"), "out of range"}},
		{"rope base infinite", func(f *testFile) { f.kv[k("rope.freq_base")] = float32(math.Inf(1)) },
			[]string{"RoPE base"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFile()
			c.edit(f)
			m, alloc, err := f.load(t, Options{Threads: 1})
			if err == nil {
				m.Close()
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if alloc > allocLimit {
				t.Errorf("allocated %d bytes before refusing", alloc)
			}
		})
	}

	// The base file and its harmless variants load.
	for name, edit := range map[string]func(f *testFile){
		"base":         func(*testFile) {},
		"rope_freqs":   func(f *testFile) { f.add("rope_freqs.weight", kernels.F32, 2, 32) },
		"scaling none": func(f *testFile) { f.kv[k("rope.scaling.type")] = "none"; f.kv[k("rope.scaling.factor")] = float32(8) },
		"scaling linear": func(f *testFile) {
			f.kv[k("rope.scaling.type")] = "linear"
			f.kv[k("rope.scaling.factor")] = float32(4)
		},
		"scale_linear key":     func(f *testFile) { f.kv[k("rope.scale_linear")] = float32(2) },
		"tied embeddings":      func(f *testFile) { f.remove("output.weight") },
		"no vocab_size key":    func(f *testFile) { delete(f.kv, k("vocab_size")) },
		"key_length = default": func(f *testFile) { f.kv[k("attention.key_length")] = uint32(64) },
		"padded embeddings": func(f *testFile) {
			f.kv["tokenizer.ggml.tokens"] = f.kv["tokenizer.ggml.tokens"].([]string)[:60]
		},
	} {
		f := newTestFile()
		edit(f)
		m, _, err := f.load(t, Options{Threads: 1})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		m.Close()
	}
}

// TestRopeScalingConfig checks how the RoPE scaling keys become the linear
// factor and the frequency factors: llama.cpp's reading of them.
func TestRopeScalingConfig(t *testing.T) {
	k := newTestFile().key
	for _, c := range []struct {
		name string
		kv   map[string]any
		want float64
	}{
		{"absent", nil, 0},
		{"linear 4", map[string]any{k("rope.scaling.type"): "linear", k("rope.scaling.factor"): float32(4)}, 4},
		{"factor without type is linear", map[string]any{k("rope.scaling.factor"): float32(2)}, 2},
		{"old scale_linear key", map[string]any{k("rope.scale_linear"): float32(8)}, 8},
		{"none ignores the factor", map[string]any{k("rope.scaling.type"): "none", k("rope.scaling.factor"): float32(8)}, 0},
		{"factor 1 is none", map[string]any{k("rope.scaling.type"): "linear", k("rope.scaling.factor"): float32(1)}, 0},
		{"factor 0 is none", map[string]any{k("rope.scaling.type"): "linear", k("rope.scaling.factor"): float32(0)}, 0},
	} {
		f := newTestFile()
		for key, v := range c.kv {
			f.kv[key] = v
		}
		file, err := gguf.Parse(f.bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ConfigFromGGUF(file)
		if err != nil || cfg.RopeLinearFactor != c.want {
			t.Errorf("%s: factor %v (%v), want %v", c.name, cfg.RopeLinearFactor, err, c.want)
		}
	}
	f := newTestFile()
	f.add("rope_freqs.weight", kernels.F32, 3, 32)
	m, _, err := f.load(t, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Weights.RopeFreqs) != 32 || m.Weights.RopeFreqs[31] != 3 {
		t.Errorf("rope_freqs loaded as %v", m.Weights.RopeFreqs)
	}
}

// TestContextWindow checks the KV cache's size: the default window is the
// file's context length up to DefaultContextLength, a window too large for
// the machine is refused before anything is allocated, with an error naming
// the bytes, and the estimate matches what a session allocates.
func TestContextWindow(t *testing.T) {
	// The audit's file: one layer, head dimension 512, context_length 2^24:
	// a 2^24-position cache would take 64 GiB.
	big := newTestFile()
	k := big.key
	big.kv[k("context_length")] = uint32(1 << 24)
	big.kv[k("attention.head_count")] = uint32(1)
	big.kv[k("attention.head_count_kv")] = uint32(1)
	big.kv[k("embedding_length")] = uint32(512)
	big.kv[k("block_count")] = uint32(1)
	big.tensors = nil
	big.add("token_embd.weight", kernels.F16, 0.5, 512, tfVocab)
	big.add("output_norm.weight", kernels.F32, 1, 512)
	for _, n := range []string{"attn_norm", "ffn_norm"} {
		big.add("blk.0."+n+".weight", kernels.F32, 1, 512)
	}
	for _, p := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
		big.add("blk.0."+p+".weight", kernels.TQ2_0, 0, 512, 512)
	}
	big.add("blk.0.ffn_gate.weight", kernels.TQ2_0, 0, 512, tfFFN)
	big.add("blk.0.ffn_up.weight", kernels.TQ2_0, 0, 512, tfFFN)
	big.add("blk.0.ffn_down.weight", kernels.TQ2_0, 0, tfFFN, 512)
	if n := len(big.bytes(t)); n > 1<<20 {
		t.Fatalf("test file of %d bytes", n)
	}

	m, _, err := big.load(t, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Options().ContextLength; got != DefaultContextLength {
		t.Errorf("default window %d, want %d", got, DefaultContextLength)
	}
	// The estimate is what NewSession allocates.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := m.NewSession()
	runtime.ReadMemStats(&after)
	alloc, want := after.TotalAlloc-before.TotalAlloc, m.SessionBytes()
	t.Logf("default window: NewSession allocated %d bytes, SessionBytes %d", alloc, want)
	if float64(alloc) < 0.95*float64(want) || float64(alloc) > 1.05*float64(want)+64<<10 {
		t.Errorf("NewSession allocated %d bytes, SessionBytes says %d", alloc, want)
	}
	if s.Cap() != DefaultContextLength {
		t.Errorf("session holds %d positions", s.Cap())
	}
	m.Close()

	// A small file's own length is the default.
	m, _, err = newTestFile().load(t, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Options().ContextLength; got != 128 {
		t.Errorf("default window %d, want the file's 128", got)
	}
	m.Close()

	// On a machine with 8 GiB available the full 2^24 window is refused.
	defer func(f func() (uint64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (uint64, bool) { return 8 << 30, true }
	m, alloc, err = big.load(t, Options{Threads: 2, ContextLength: 1 << 24})
	var me *SessionMemoryError
	if !errors.As(err, &me) {
		if m != nil {
			m.Close()
		}
		t.Fatalf("2^24 window: %v, want a SessionMemoryError", err)
	}
	const kvBytes = 1 * 2 * (1 << 24) * 512 * 4
	if me.KVBytes != kvBytes || me.Bytes < kvBytes || me.Available != 8<<30 || me.Overflow {
		t.Errorf("error %+v", me)
	}
	msg := err.Error()
	for _, w := range []string{"16777216-position context window", fmt.Sprint(me.Bytes), "KV cache 64.00 GiB", "1 layers x 2 x 512", "8.00 GiB of memory available", "smaller context window"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error of several lines: %q", msg)
	}
	if alloc > 8<<20 {
		t.Errorf("allocated %d bytes before refusing", alloc)
	}
	// Unknown memory: only the address-space bound applies.
	availableMemory = func() (uint64, bool) { return 0, false }
	if err := checkSessionMemory(&Config{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 512, Hidden: 512, FFN: 256, VocabSize: 64},
		Options{Threads: 1, ContextLength: 1 << 24, BatchSize: 64}); err != nil {
		t.Errorf("64 GiB with unknown memory: %v", err)
	}

	// Out of range windows are refused by Validate.
	for _, n := range []int{-1, MaxContextLength + 1, math.MaxInt} {
		if _, _, err := big.load(t, Options{ContextLength: n}); err == nil || !strings.Contains(err.Error(), "context length") {
			t.Errorf("ContextLength %d: %v", n, err)
		}
	}
}

// TestSessionBytesOverflow: sizes beyond uint64 are reported as overflow,
// never wrapped around to a small number.
func TestSessionBytesOverflow(t *testing.T) {
	cfg := Config{Layers: 1 << 24, Heads: 1 << 20, KVHeads: 1 << 20, HeadDim: 1 << 20, Hidden: 1, FFN: 1, VocabSize: 1}
	o := Options{Threads: 1, ContextLength: 1 << 24, BatchSize: 1}
	if _, _, ok := sessionBytes(&cfg, o); ok {
		t.Fatal("no overflow reported")
	}
	err := checkSessionMemory(&cfg, o)
	var me *SessionMemoryError
	if !errors.As(err, &me) || !me.Overflow || !strings.Contains(err.Error(), "more memory than can be counted") {
		t.Fatalf("error %v", err)
	}
	var s sizer
	s.add(math.MaxInt64, 2)
	if s.overflow {
		t.Error("MaxInt64 x 2 overflowed")
	}
	s.add(math.MaxInt64, 4)
	if !s.overflow {
		t.Error("MaxInt64 x 4 did not overflow")
	}
	s = sizer{}
	s.add(math.MaxInt64, 1)
	s.add(math.MaxInt64, 1)
	s.add(2)
	if !s.overflow {
		t.Error("the sum did not overflow")
	}
	s = sizer{}
	s.add(-1)
	if !s.overflow {
		t.Error("a negative factor was accepted")
	}
}

// TestParseMeminfo reads MemAvailable, falls back to MemTotal, and reports
// nothing for text without either.
func TestParseMeminfo(t *testing.T) {
	for _, c := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"MemTotal:       16318412 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n", 8000000 << 10, true},
		{"MemTotal:       16318412 kB\nMemFree:         1000 kB\n", 16318412 << 10, true},
		{"", 0, false},
		{"garbage\nMemAvailable: lots kB\n", 0, false},
		{"MemAvailable: 99999999999999999999 kB\n", 0, false},
	} {
		got, ok := parseMeminfo([]byte(c.text))
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %d %v, want %d %v", c.text, got, ok, c.want, c.ok)
		}
	}
	if runtime.GOOS == "linux" {
		if n, ok := procMemAvailable(); ok && n < 1<<20 {
			t.Errorf("MemAvailable %d bytes", n)
		}
	}
}

// TestThreadBounds: thread counts beyond MaxThreads are refused by
// Validate, New and SetThreads with an error naming the bound.
func TestThreadBounds(t *testing.T) {
	for _, n := range []int{-1, MaxThreads + 1, 100000, 1e8} {
		err := Options{Threads: n}.Validate()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxThreads)) {
			t.Errorf("Validate(Threads %d): %v", n, err)
		}
		if m, _, err := newTestFile().load(t, Options{Threads: n}); err == nil {
			m.Close()
			t.Errorf("loaded with %d threads", n)
		}
	}
	if err := (Options{Threads: MaxThreads}).Validate(); err != nil {
		t.Error(err)
	}
	m, _, err := newTestFile().load(t, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, n := range []int{-1, MaxThreads + 1, 1e8} {
		if err := m.SetThreads(n); err == nil {
			t.Errorf("SetThreads(%d) succeeded", n)
		}
	}
	if m.Options().Threads != 1 {
		t.Errorf("threads %d after refused changes", m.Options().Threads)
	}
	// A thread count whose attention buffers do not fit is refused too.
	defer func(f func() (uint64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (uint64, bool) { return m.SessionBytes() + 1000, true }
	if err := m.SetThreads(MaxThreads); err == nil {
		t.Error("SetThreads(MaxThreads) succeeded beyond the memory")
	}
}
