package model

import (
	"math"
	"testing"
)

func mustSampler(t *testing.T, o SamplerOptions, vocab int) *Sampler {
	t.Helper()
	s, err := NewSampler(o, vocab)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counts samples n tokens and returns how often each was chosen.
func counts(s *Sampler, logits []float32, history []int, n int) map[int]int {
	c := map[int]int{}
	for i := 0; i < n; i++ {
		c[s.Sample(logits, history)]++
	}
	return c
}

func TestSamplerGreedy(t *testing.T) {
	logits := []float32{0.1, 2.5, -1, 2.4, float32(math.NaN())}
	s := mustSampler(t, SamplerOptions{}, len(logits))
	if got := s.Sample(logits, nil); got != 1 {
		t.Fatalf("greedy picked %d, want 1", got)
	}
	// The repetition penalty divides the positive logit of a seen token.
	s = mustSampler(t, SamplerOptions{RepeatPenalty: 1.1}, len(logits))
	if got := s.Sample(logits, []int{1}); got != 3 {
		t.Fatalf("with token 1 penalised greedy picked %d, want 3", got)
	}
	// ... but only within the last RepeatLastN tokens.
	s = mustSampler(t, SamplerOptions{RepeatPenalty: 1.1, RepeatLastN: 2}, len(logits))
	if got := s.Sample(logits, []int{1, 0, 2}); got != 1 {
		t.Fatalf("token 1 outside the window was penalised: picked %d", got)
	}
}

func TestSamplerFilters(t *testing.T) {
	// Probabilities at temperature 1: about 0.64, 0.24, 0.087, 0.032, ...
	logits := []float32{3, 2, 1, 0, -1, -2}
	const n = 4000
	cases := []struct {
		name    string
		opts    SamplerOptions
		allowed map[int]bool
	}{
		{"top-k 2", SamplerOptions{Temperature: 1, TopK: 2}, map[int]bool{0: true, 1: true}},
		{"top-p 0.8", SamplerOptions{Temperature: 1, TopP: 0.8}, map[int]bool{0: true, 1: true}},
		// Ratios to the best token: 1, 0.37, 0.135, 0.0498, ...
		{"min-p 0.2", SamplerOptions{Temperature: 1, MinP: 0.2}, map[int]bool{0: true, 1: true}},
		{"min-p 0.1", SamplerOptions{Temperature: 1, MinP: 0.1}, map[int]bool{0: true, 1: true, 2: true}},
		{"min-p 0.04", SamplerOptions{Temperature: 1, MinP: 0.04}, map[int]bool{0: true, 1: true, 2: true, 3: true}},
		{"top-k 1", SamplerOptions{Temperature: 5, TopK: 1}, map[int]bool{0: true}},
	}
	for _, tc := range cases {
		got := counts(mustSampler(t, tc.opts, len(logits)), logits, nil, n)
		for tok, k := range got {
			if !tc.allowed[tok] {
				t.Errorf("%s: sampled token %d (%d times)", tc.name, tok, k)
			}
		}
		for tok := range tc.allowed {
			if got[tok] == 0 {
				t.Errorf("%s: never sampled allowed token %d", tc.name, tok)
			}
		}
	}
}

func TestSamplerDistribution(t *testing.T) {
	// At temperature 1 token frequencies follow softmax(logits); at a low
	// temperature the best token dominates.
	logits := []float32{1, 0, 0.5}
	const n = 20000
	got := counts(mustSampler(t, SamplerOptions{Temperature: 1, Seed: 7}, 3), logits, nil, n)
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for tok, l := range logits {
		p := math.Exp(float64(l)) / z
		f := float64(got[tok]) / n
		if math.Abs(f-p) > 0.02 {
			t.Errorf("token %d: frequency %.3f, probability %.3f", tok, f, p)
		}
	}
	cold := counts(mustSampler(t, SamplerOptions{Temperature: 0.05, Seed: 7}, 3), logits, nil, 1000)
	if cold[0] < 990 {
		t.Errorf("temperature 0.05: best token chosen %d/1000 times", cold[0])
	}
}

func TestSamplerSeedRepeats(t *testing.T) {
	logits := make([]float32, 50)
	for i := range logits {
		logits[i] = float32(i%7) * 0.3
	}
	o := SamplerOptions{Temperature: 1, Seed: 42}
	a, b := mustSampler(t, o, 50), mustSampler(t, o, 50)
	o.Seed = 43
	c := mustSampler(t, o, 50)
	same, differ := true, false
	for i := 0; i < 100; i++ {
		x, y, z := a.Sample(logits, nil), b.Sample(logits, nil), c.Sample(logits, nil)
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("same seed same tokens: %v; other seed differs: %v", same, differ)
	}
}

func TestSelectTop(t *testing.T) {
	for _, n := range []int{1, 2, 5, 100, 1000} {
		for _, k := range []int{1, 2, n / 2, n - 1} {
			if k < 1 || k >= n {
				continue
			}
			c := make([]candidate, n)
			for i := range c {
				// Many duplicates and a descending run stress the pivoting.
				c[i] = candidate{i, float32((i * 7919) % 13)}
			}
			selectTop(c, k)
			minTop := float32(math.Inf(1))
			for _, x := range c[:k] {
				minTop = min(minTop, x.logit)
			}
			for _, x := range c[k:] {
				if x.logit > minTop {
					t.Fatalf("n=%d k=%d: %v left out of the top though above %v", n, k, x.logit, minTop)
				}
			}
		}
	}
}

func TestSamplerOptionsValidate(t *testing.T) {
	bad := []SamplerOptions{
		{Temperature: -1}, {TopK: -1}, {TopP: 1.5}, {MinP: -0.1},
		{RepeatPenalty: -1}, {Temperature: float32(math.NaN())}, {Temperature: float32(math.Inf(1))},
	}
	for _, o := range bad {
		if _, err := NewSampler(o, 10); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
