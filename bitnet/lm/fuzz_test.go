package lm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// tinyCheckpoint returns the bytes of the checkpoint of a model with a few
// hundred parameters, the fuzzer's seed.
func tinyCheckpoint(t testing.TB) []byte {
	t.Helper()
	tok, err := tokenizer.TrainByteBPE([]string{strings.Repeat("the cat sat on the mat. ", 20)}, tokenizer.TrainOptions{VocabSize: 264})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Vocab: tok.VocabSize(), Dim: 8, Layers: 1, Heads: 2, KVHeads: 1, FFN: 8, Context: 4, Activation: bitnet.SiLU}
	s, err := NewState(cfg, tok, DefaultOptions(3))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := SaveCheckpoint(path, s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzLoadCheckpoint feeds damaged checkpoints to the loader, which must
// reject them with an error, never panic, and never allocate for a model
// the file does not hold.
func FuzzLoadCheckpoint(f *testing.F) {
	f.Add(tinyCheckpoint(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := gguf.Parse(b)
		if err != nil {
			return
		}
		s, err := stateFromGGUF(g)
		if err != nil {
			return
		}
		if got, want := s.Model.ParamCount(), s.Model.Config.ParamCount(); got != want {
			t.Fatalf("model holds %d values, its config says %d", got, want)
		}
	})
}

func TestTinyCheckpointRoundTrip(t *testing.T) {
	b := tinyCheckpoint(t)
	g, err := gguf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stateFromGGUF(g)
	if err != nil {
		t.Fatal(err)
	}
	if s.Model.Config.Dim != 8 || s.Options.Steps != 3 || s.Model.ParamCount() != s.Model.Config.ParamCount() {
		t.Fatalf("round trip: %+v, %+v", s.Model.Config, s.Options)
	}
}
