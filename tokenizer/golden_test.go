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

// The whole benchmark text (Go source, the GPL, CJK and emoji) as one string.
func TestBenchTextIDs(t *testing.T) {
	for _, c := range []struct {
		name  string
		tok   func(testing.TB) *Tokenizer
		which string
	}{
		{"llama3 json", llama3JSON, "llama3"},
		{"llama2 json", llama2JSON, "llama2"},
		{"llama2 model", llama2Model, "llama2"},
	} {
		tok := c.tok(t)
		text, want := benchText(t, c.which)
		got := tok.Encode(text, EncodeOptions{})
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("%s: %d ids, want %d; first difference at %d: got %v want %v", c.name, len(got), len(want), i,
				got[i:min(i+5, len(got))], want[i:min(i+5, len(want))])
		}
		if back := tok.Decode(got); back != text {
			t.Errorf("%s: the decoded text differs from the input", c.name)
		}
	}
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
