package lm

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/bitnet-go/bitnet/tokenizer"
)

// Corpus is a tokenized text: one stream of token ids, the texts one after
// another.
type Corpus struct {
	Tokens []int32
	// BOS is the beginning-of-sequence id that starts every window (-1 when
	// the vocabulary has none: windows then start with their own first
	// token).
	BOS int
}

// ReadTexts reads whole text files.
func ReadTexts(paths []string) ([]string, error) {
	texts := make([]string, len(paths))
	for i, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read corpus: %w", err)
		}
		texts[i] = string(b)
	}
	return texts, nil
}

// Tokenize encodes texts into one stream, the way `bitnet perplexity
// --parse-special` encodes a file: BOS before each text (when the tokenizer
// adds one by default) and control tokens written in the text (such as
// TinyStories' "<|endoftext|>" separators, when that is the EOS token) as
// their ids. Texts are cut after each control token and the pieces encoded
// in parallel, which gives the same ids as encoding each text whole.
func Tokenize(tok *tokenizer.Tokenizer, texts []string) *Corpus {
	var pieces []string
	var startsText []bool
	for _, text := range texts {
		parts := splitAfterControls(tok, text)
		for i, part := range parts {
			pieces = append(pieces, part)
			startsText = append(startsText, i == 0)
		}
	}
	encoded := make([][]int, len(pieces))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				encoded[i] = tok.Encode(pieces[i], tokenizer.EncodeOptions{
					AddBOS:       startsText[i] && tok.AddBOSByDefault(),
					ParseSpecial: true,
				})
			}
		}()
	}
	for i := range pieces {
		next <- i
	}
	close(next)
	wg.Wait()
	c := &Corpus{BOS: -1}
	if tok.AddBOSByDefault() {
		c.BOS = tok.BOS()
	}
	for _, ids := range encoded {
		for _, id := range ids {
			c.Tokens = append(c.Tokens, int32(id))
		}
	}
	return c
}

// splitAfterControls cuts text after each occurrence of the tokenizer's
// EOS piece (a control token, matched as one id), keeping every byte.
func splitAfterControls(tok *tokenizer.Tokenizer, text string) []string {
	sep := ""
	if eos := tok.EOS(); eos >= 0 && tok.IsControl(eos) {
		sep = tok.Piece(eos)
	}
	if sep == "" {
		return []string{text}
	}
	var parts []string
	const minPart = 1 << 16 // keep pieces large enough to be worth a task
	for len(text) > 0 {
		i := strings.Index(text[min(minPart, len(text)):], sep)
		if i < 0 {
			break
		}
		cut := min(minPart, len(text)) + i + len(sep)
		parts = append(parts, text[:cut])
		text = text[cut:]
	}
	if len(text) > 0 || len(parts) == 0 {
		parts = append(parts, text)
	}
	return parts
}

// Hash returns a fingerprint of the token stream, stored in checkpoints so
// that a resumed run can tell it is reading the same data.
func (c *Corpus) Hash() uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, t := range c.Tokens {
		b[0], b[1], b[2], b[3] = byte(t), byte(t>>8), byte(t>>16), byte(t>>24)
		h.Write(b[:])
	}
	return h.Sum64()
}

// window fills inputs and targets (seq values each) with the window of the
// stream that starts at position start: inputs are Tokens[start:start+seq]
// with the first replaced by BOS (as llama-perplexity does with each chunk),
// targets the tokens that follow each input, Tokens[start+1:start+seq+1].
func (c *Corpus) window(start int, inputs, targets []int) {
	for i := range inputs {
		inputs[i] = int(c.Tokens[start+i])
		targets[i] = int(c.Tokens[start+i+1])
	}
	if c.BOS >= 0 {
		inputs[0] = c.BOS
	}
}

// Sample fills inputs and targets with batch windows of seq tokens at
// positions drawn uniformly from rng.
func (c *Corpus) Sample(rng *rand.Rand, batch, seq int, inputs, targets []int) error {
	span := len(c.Tokens) - seq
	if span <= 0 {
		return fmt.Errorf("corpus of %d tokens is too short for windows of %d", len(c.Tokens), seq)
	}
	for b := range batch {
		c.window(rng.IntN(span), inputs[b*seq:(b+1)*seq], targets[b*seq:(b+1)*seq])
	}
	return nil
}
