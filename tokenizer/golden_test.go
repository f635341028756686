package tokenizer

import (
	"slices"
	"testing"
)

// checkEncode compares Encode with the reference ids and the decoded text
// with the input.
func checkEncode(t *testing.T, tok *Tokenizer, name, text string, want []int, opts EncodeOptions) {
	t.Helper()
	got := tok.Encode(text, opts)
	if !slices.Equal(got, want) {
		t.Errorf("%s: Encode(%q)\n got %v\nwant %v", name, text, got, want)
		return
	}
	if back := tok.Decode(got); back != text {
		t.Errorf("%s: Decode(Encode(%q)) = %q", name, text, back)
	}
}

func TestLlama3JSONCases(t *testing.T) {
	tok := llama3JSON(t)
	for _, c := range goldenCases(t) {
		checkEncode(t, tok, "llama3", c.Text, c.Llama3, EncodeOptions{ParseSpecial: true})
		if !c.Llama3HasSpecialTokens {
			// Without special tokens in the text, parsing them changes nothing.
			checkEncode(t, tok, "llama3 plain", c.Text, c.Llama3, EncodeOptions{})
		}
	}
}

func TestLlama3JSONVectors(t *testing.T) {
	tok := llama3JSON(t)
	for _, c := range vectorCases(t, "llamacpp-llama-bpe-vectors.json") {
		checkEncode(t, tok, "llama-bpe vectors", c.Text, c.IDs, EncodeOptions{})
	}
}

func TestLlama2JSONCases(t *testing.T) {
	tok := llama2JSON(t)
	n := 0
	for _, c := range goldenCases(t) {
		if !c.Llama2Reliable {
			continue
		}
		n++
		checkEncode(t, tok, "llama2", c.Text, c.Llama2, EncodeOptions{ParseSpecial: true})
	}
	if n == 0 {
		t.Fatal("no reliable Llama 2 cases")
	}
}

func TestLlama2JSONVectors(t *testing.T) {
	tok := llama2JSON(t)
	for _, c := range vectorCases(t, "llamacpp-llama-spm-vectors.json") {
		checkEncode(t, tok, "llama-spm vectors", c.Text, c.IDs, EncodeOptions{})
	}
}
