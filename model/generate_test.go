package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/model/golden"
)

// loadCase loads the first golden case whose name is given.
func loadCase(t *testing.T, name string, opts Options) (*Model, golden.Case) {
	t.Helper()
	for _, c := range golden.Cases(t) {
		if c.Name == name {
			m, err := Load(c.ModelPath(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			return m, c
		}
	}
	t.Skipf("golden case %s not present", name)
	return nil, golden.Case{}
}

// TestGreedyContinuation checks that greedy generation token by token (one
// decode per token, KV cache reused) reproduces the reference continuation on
// a float-weight case, where the exact reference reproduces all 24 tokens.
func TestGreedyContinuation(t *testing.T) {
	m, c := loadCase(t, "b158-relu2-f32", Options{Activations: ActFloat})
	s := m.NewSession()
	var got []int
	st, err := s.Generate(context.Background(), c.Tokens.Prompt, GenerateOptions{MaxTokens: 24}, func(tok int) error {
		got = append(got, tok)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := c.Tokens.Sequence[len(c.Tokens.Prompt):]
	if len(got) != len(want) {
		t.Fatalf("generated %d tokens (%v), want %d", len(got), st.Reason, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d: got %d, want %d (got %v, want %v)", i, got[i], want[i], got, want)
		}
	}
	if st.Reason != StopMaxTokens || st.PromptTokens != len(c.Tokens.Prompt) {
		t.Errorf("stats %+v", st)
	}
}

// TestIncrementalMatchesBatch checks that evaluating a sequence one token at
// a time gives the same logits as one batched pass.
func TestIncrementalMatchesBatch(t *testing.T) {
	for _, mode := range []ActivationMode{ActFloat, ActInt8} {
		m, c := loadCase(t, "b158-relu2-tq2_0", Options{Activations: mode, BatchSize: 7})
		seq := c.Tokens.Sequence
		batch := teacherForced(t, m, seq)
		s := m.NewSession()
		for i, tok := range seq {
			if err := s.Forward(context.Background(), []int{tok}, nil); err != nil {
				t.Fatal(err)
			}
			var worst float64
			for v, x := range s.Logits() {
				worst = max(worst, math.Abs(float64(x-batch[i][v])))
			}
			if worst > 1e-4 {
				t.Fatalf("%v: position %d differs from the batched pass by %g", mode, i, worst)
			}
		}
	}
}

// TestGenerateReusesPrefixAndStops covers prefix reuse, stop tokens,
// cancellation and a full context.
func TestGenerateReusesPrefixAndStops(t *testing.T) {
	m, c := loadCase(t, "b158-relu2-f32", Options{Activations: ActFloat, ContextLength: 40})
	s := m.NewSession()
	prompt := c.Tokens.Prompt
	want := c.Tokens.Sequence[len(prompt):]
	ctx := context.Background()

	// Make the first reference token that differs from those before it a
	// stop token: generation ends just before it.
	k := 1
	for k < len(want) && slices.Contains(want[:k], want[k]) {
		k++
	}
	st, err := s.Generate(ctx, prompt, GenerateOptions{StopTokens: []int{want[k]}}, func(int) error { return nil })
	if err != nil || st.Reason != StopToken || st.GeneratedTokens != k {
		t.Fatalf("stop token %d at %d: %+v, %v", want[k], k, st, err)
	}
	// Same prompt again: everything but the last prompt token is reused.
	st, err = s.Generate(ctx, prompt, GenerateOptions{MaxTokens: 2}, func(int) error { return nil })
	if err != nil || st.ReusedTokens != len(prompt)-1 || st.PromptTokens != 1 {
		t.Fatalf("prefix reuse: %+v, %v", st, err)
	}
	// Cancellation from the callback.
	stop := errors.New("stop")
	st, err = s.Generate(ctx, prompt, GenerateOptions{}, func(int) error { return stop })
	if !errors.Is(err, stop) || st.Reason != StopCancelled {
		t.Fatalf("cancel: %+v, %v", st, err)
	}
	// The context window (40) ends the generation, not a crash.
	n := 0
	st, err = s.Generate(ctx, prompt, GenerateOptions{}, func(int) error { n++; return nil })
	if err != nil || st.Reason != StopContextFull || s.Len() != s.Cap() {
		t.Fatalf("full context: %+v, %v, len %d", st, err, s.Len())
	}
	// A prompt longer than the window is an error.
	if _, err := s.Generate(ctx, make([]int, 41), GenerateOptions{}, func(int) error { return nil }); !errors.Is(err, ErrContextFull) {
		t.Fatalf("long prompt: %v", err)
	}
}

// TestDecodeAllocatesNothing checks the hot path: evaluating one token and
// sampling it allocates no memory.
func TestDecodeAllocatesNothing(t *testing.T) {
	m, c := loadCase(t, "b158-relu2-i2_s", Options{Threads: 2})
	s := m.NewSession()
	if err := s.Forward(context.Background(), c.Tokens.Prompt, nil); err != nil {
		t.Fatal(err)
	}
	smp, err := NewSampler(SamplerOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1}, m.Config.VocabSize)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(10, func() {
		s.next[0] = smp.Sample(s.Logits(), s.Tokens())
		if err := s.Forward(ctx, s.next[:], nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding a token allocates %v times", allocs)
	}
}
