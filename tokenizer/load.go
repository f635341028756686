package tokenizer

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// Load reads a tokenizer from a file of any supported kind, told apart by
// content: a GGUF model (its tokenizer metadata), a Hugging Face
// tokenizer.json, or a SentencePiece tokenizer.model.
func Load(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(gguf.Magic)):
		g, err := gguf.Open(path)
		if err != nil {
			return nil, fmt.Errorf("load tokenizer: %w", err)
		}
		defer g.Close()
		t, err := FromGGUF(g)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		return t, nil
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("{")):
		return FromJSON(path)
	}
	return FromSentencePiece(path)
}
