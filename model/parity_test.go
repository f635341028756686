package model

import (
	"context"
	"testing"

	"github.com/bitnet-go/bitnet/model/golden"
)

// checkModes maps each acceptance check of the golden data to the engine
// arithmetic it judges (testdata README §3).
var checkModes = map[string]ActivationMode{
	"exact":             ActFloat,
	"exact-vs-llamacpp": ActFloat,
	"int8-per-token":    ActInt8,
	"int8-q8k":          ActQ8K,
}

// teacherForced runs the whole sequence through a fresh session in one call
// and returns the logits of every position.
func teacherForced(t *testing.T, m *Model, seq []int) [][]float32 {
	t.Helper()
	s := m.NewSession()
	vocab := m.Config.VocabSize
	flat := make([]float32, len(seq)*vocab)
	if err := s.Forward(context.Background(), seq, flat); err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(seq))
	for i := range out {
		out[i] = flat[i*vocab : (i+1)*vocab]
	}
	return out
}

// TestGoldenLogits runs every case of ../shared/testdata/models under each
// arithmetic its checks cover and applies the checks.
func TestGoldenLogits(t *testing.T) {
	for _, c := range golden.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			byMode := map[ActivationMode][]golden.Check{}
			for _, ch := range c.Spec.Checks {
				mode, ok := checkModes[ch.Name]
				if !ok {
					t.Fatalf("unknown acceptance check %q", ch.Name)
				}
				byMode[mode] = append(byMode[mode], ch)
			}
			for mode, checks := range byMode {
				// A small batch also exercises the cache across batches; the
				// window is the sequence, whatever context the file announces.
				m, err := Load(c.ModelPath(), Options{Activations: mode, BatchSize: 16, ContextLength: len(c.Tokens.Sequence)})
				if err != nil {
					t.Fatal(err)
				}
				got := teacherForced(t, m, c.Tokens.Sequence)
				m.Close()
				for _, ch := range checks {
					d, err := c.Apply(ch, got)
					if err != nil {
						t.Errorf("%v activations: %v", mode, err)
						continue
					}
					t.Logf("%-17s %v activations vs %-9s %v", ch.Name, mode, ch.CompareTo, d)
				}
			}
		})
	}
}
