package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// streamAll feeds ids one at a time and checks that every chunk is valid
// UTF-8.
func streamAll(t *testing.T, tok *Tokenizer, ids []int) string {
	t.Helper()
	d := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		chunk := d.Add(id)
		if !utf8.ValidString(chunk) {
			t.Fatalf("chunk %q after id %d is not valid UTF-8", chunk, id)
		}
		b.WriteString(chunk)
	}
	rest := d.Flush()
	if !utf8.ValidString(rest) {
		t.Fatalf("flushed %q is not valid UTF-8", rest)
	}
	b.WriteString(rest)
	return b.String()
}

// validUTF8 replaces each byte that is not part of a valid character with
// U+FFFD, as the stream decoder does.
func validUTF8(s string) string {
	return string([]rune(s))
}

func TestStreamDecoderMatchesDecode(t *testing.T) {
	for _, c := range []struct {
		name string
		tok  func(testing.TB) *Tokenizer
	}{{"llama3", llama3JSON}, {"llama2 json", llama2JSON}, {"llama2 model", llama2Model}} {
		tok := c.tok(t)
		var texts []string
		for _, g := range goldenCases(t) {
			texts = append(texts, g.Text)
		}
		for _, v := range vectorCases(t, "llamacpp-llama-bpe-vectors.json") {
			texts = append(texts, v.Text)
		}
		for _, text := range texts {
			for _, opts := range []EncodeOptions{{}, {AddBOS: true, ParseSpecial: true}} {
				ids := tok.Encode(text, opts)
				want := tok.Decode(ids)
				if got := streamAll(t, tok, ids); got != want {
					t.Errorf("%s: stream of %q = %q, Decode = %q", c.name, text, got, want)
				}
			}
		}
	}
}

// A multi-byte character spread over byte tokens is held back until it is
// complete.
func TestStreamDecoderHoldsPartialCharacters(t *testing.T) {
	tok := llama3JSON(t)
	// "🦙" is four bytes; feed its byte tokens one by one.
	llama := "🦙"
	var ids []int
	for i := 0; i < len(llama); i++ {
		ids = append(ids, int(tok.byteToken[llama[i]]))
	}
	d := tok.NewStreamDecoder()
	for i, id := range ids[:3] {
		if s := d.Add(id); s != "" {
			t.Fatalf("after %d of 4 bytes the decoder printed %q", i+1, s)
		}
	}
	if s := d.Add(ids[3]); s != llama {
		t.Fatalf("complete character: got %q", s)
	}
	// An unfinished character at the end becomes U+FFFD.
	d.Add(ids[0])
	if s := d.Flush(); s != "\uFFFD" {
		t.Fatalf("Flush of a lone lead byte = %q", s)
	}
	// A byte that cannot continue a character is replaced at once.
	d.Add(ids[0])
	if s := d.Add(int(tok.byteToken['A'])); s != "\uFFFDA" {
		t.Fatalf("lead byte then 'A' = %q", s)
	}

	// SentencePiece <0xNN> tokens behave the same.
	sp := llama2Model(t)
	var spIDs []int
	for i := 0; i < len(llama); i++ {
		spIDs = append(spIDs, int(sp.byteToken[llama[i]]))
	}
	d = sp.NewStreamDecoder()
	got := ""
	for _, id := range spIDs {
		got += d.Add(id)
		if got != "" && got != llama {
			t.Fatalf("partial output %q", got)
		}
	}
	if got != llama {
		t.Fatalf("SentencePiece bytes: got %q", got)
	}
}

// The leading "▁" that SentencePiece encoding adds is dropped at the start
// and after special tokens, in Decode and in the stream alike.
func TestSentencePieceLeadingSpace(t *testing.T) {
	for _, tok := range []*Tokenizer{llama2Model(t), llama2JSON(t)} {
		for _, text := range []string{"Hello world", " Hello", "  two", "Hello<s>world</s> x"} {
			ids := tok.Encode(text, EncodeOptions{ParseSpecial: true})
			if got := tok.Decode(ids); got != text {
				t.Errorf("%v: Decode(Encode(%q)) = %q", tok.Kind(), text, got)
			}
			if got := streamAll(t, tok, ids); got != text {
				t.Errorf("%v: stream(Encode(%q)) = %q", tok.Kind(), text, got)
			}
		}
	}
}

func TestDecodeSkipsUnknownIDs(t *testing.T) {
	tok := llama3JSON(t)
	hello := tok.Encode("Hello", EncodeOptions{})
	ids := append([]int{-1, 1 << 40, tok.VocabSize()}, hello...)
	if got := tok.Decode(ids); got != "Hello" {
		t.Errorf("Decode with out-of-range ids = %q", got)
	}
	if got := streamAll(t, tok, ids); got != "Hello" {
		t.Errorf("stream with out-of-range ids = %q", got)
	}
	if tok.Piece(-5) != "" || tok.Piece(tok.VocabSize()) != "" || tok.IsControl(-1) {
		t.Error("accessors accept out-of-range ids")
	}
}

// One Tokenizer serves many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	tok := tinyByteLevel(t)
	texts := []string{"the an", "<|bos|>hello<tool> world", "\xff\xfe🦙 123456", strings.Repeat("ab ", 100)}
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				text := texts[(g+i)%len(texts)]
				ids := tok.Encode(text, EncodeOptions{ParseSpecial: true})
				ok = ok && tok.Decode(ids) == text
			}
			done <- ok
		}()
	}
	for g := 0; g < 8; g++ {
		if !<-done {
			t.Error("a concurrent round trip failed")
		}
	}
}
