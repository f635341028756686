package model

import (
	"context"
	"runtime"
	"slices"
	"testing"
)

// TestSetThreadsKeepsResults changes the thread count between generations
// and checks that sessions made before and after the change produce the
// same greedy tokens and logits as before it.
func TestSetThreadsKeepsResults(t *testing.T) {
	m, c := loadCase(t, "b158-relu2-tq2_0", Options{Threads: 1})
	generate := func(s *Session) ([]int, []float32) {
		t.Helper()
		s.Truncate(0)
		var got []int
		if _, err := s.Generate(context.Background(), c.Tokens.Prompt, GenerateOptions{MaxTokens: 8}, func(tok int) error {
			got = append(got, tok)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got, slices.Clone(s.Logits())
	}
	before := m.NewSession()
	wantTokens, wantLogits := generate(before)

	for _, n := range []int{3, 1, 0} {
		if err := m.SetThreads(n); err != nil {
			t.Fatal(err)
		}
		want := n
		if n == 0 {
			want = runtime.NumCPU()
		}
		if got := m.Options().Threads; got != want {
			t.Errorf("SetThreads(%d): Options().Threads = %d, want %d", n, got, want)
		}
		for name, s := range map[string]*Session{"old session": before, "new session": m.NewSession()} {
			tokens, logits := generate(s)
			if !slices.Equal(tokens, wantTokens) || !slices.Equal(logits, wantLogits) {
				t.Errorf("%d threads, %s: tokens %v, want %v (logits equal: %v)", n, name, tokens, wantTokens, slices.Equal(logits, wantLogits))
			}
		}
	}
	if err := m.SetThreads(1 << 20); err == nil {
		t.Error("SetThreads(1<<20) succeeded")
	}
}
