package tokenizer

import (
	"slices"
	"testing"

	"github.com/sugarme/tokenizer/model/bpe"
)

// BenchmarkSugarmeBPE encodes the benchmark text with sugarme/tokenizer's
// BPE model (built from the Llama 3 vocabulary and merges) after our Llama 3
// split, to compare its merge loop with ours (BenchmarkEncodeLlama3). It
// reports how many of the reference ids it reproduces: sugarme has no
// ignore_merges.
func BenchmarkSugarmeBPE(b *testing.B) {
	tok := llama3JSON(b)
	vocab := map[string]int{}
	for id, p := range tok.pieces {
		if tok.types[id] == TypeNormal {
			vocab[p] = id
		}
	}
	merges := make([]string, len(tok.mergeList))
	for i, m := range tok.mergeList {
		merges[i] = tok.pieces[m.left] + " " + tok.pieces[m.right]
	}
	model, err := bpe.New(vocab, merges, nil, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	text, want := benchText(b, "llama3")
	// MergeWord is Tokenize without its word cache (a nil cache panics), so
	// this measures the merge loop itself.
	encodeWord := func(w string) []int {
		var ids []int
		for _, t := range model.WordToTokens(*model.MergeWord(ByteLevelEncode(w))) {
			ids = append(ids, t.Id)
		}
		return ids
	}
	words, same := 0, 0
	for pos := 0; pos < len(text); {
		end := nextLlama3(text, pos)
		words++
		if slices.Equal(encodeWord(text[pos:end]), tok.Encode(text[pos:end], EncodeOptions{})) {
			same++
		}
		pos = end
	}
	b.ResetTimer()
	for b.Loop() {
		for pos := 0; pos < len(text); {
			end := nextLlama3(text, pos)
			encodeWord(text[pos:end])
			pos = end
		}
	}
	b.ReportMetric(float64(len(want)*b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(same)/float64(words), "words-agree")
}
