package models

import (
	"testing"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// TestDefault checks that the embedded model, when there is one, is a GGUF
// file the engine and the tokenizer load, with a name to show.
func TestDefault(t *testing.T) {
	data, name, ok := Default()
	if !ok {
		if data != nil || name != "" {
			t.Fatalf("no model, yet Default returns %d bytes and name %q", len(data), name)
		}
		t.Skip("no model embedded yet")
	}
	if name == "" {
		t.Error("the embedded model has no name")
	}
	f, err := gguf.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokenizer.FromGGUF(f); err != nil {
		t.Errorf("tokenizer: %v", err)
	}
	m, err := model.FromGGUF(f, model.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}
