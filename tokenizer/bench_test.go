package tokenizer

import (
	"bytes"
	"os"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// Run with -cpu 1 for the one-core figures: go test -run x -bench . -cpu 1 ./tokenizer/

func benchmarkEncode(b *testing.B, tok *Tokenizer, which string) {
	text, want := benchText(b, which)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tok.Encode(text, EncodeOptions{})
	}
	b.ReportMetric(float64(len(want)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkEncodeLlama3(b *testing.B)       { benchmarkEncode(b, llama3JSON(b), "llama3") }
func BenchmarkEncodeLlama2JSON(b *testing.B)   { benchmarkEncode(b, llama2JSON(b), "llama2") }
func BenchmarkEncodeLlama2Scores(b *testing.B) { benchmarkEncode(b, llama2Model(b), "llama2") }

func BenchmarkDecodeLlama3(b *testing.B) {
	tok := llama3JSON(b)
	text, ids := benchText(b, "llama3")
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Decode(ids)
	}
}

// ggufBytes is the Llama 3 tokenizer as a tensor-less GGUF file.
func ggufBytes(b *testing.B) []byte {
	w := gguf.NewWriter()
	llama3JSON(b).AddToGGUF(w)
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLoadLlama3GGUF loads the 128k vocabulary and 280k merges from
// GGUF metadata (file parse included, as when a model is opened).
func BenchmarkLoadLlama3GGUF(b *testing.B) {
	data := ggufBytes(b)
	b.ResetTimer()
	for b.Loop() {
		f, err := gguf.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := FromGGUF(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadLlama3JSON loads the 9 MB tokenizer.json.
func BenchmarkLoadLlama3JSON(b *testing.B) {
	data, err := os.ReadFile(tokenizerPath(b, "llama3/tokenizer.json"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeLlama3Special is BenchmarkEncodeLlama3 with special-token
// parsing on: every '<' in the Go source is a possible "<|...|>".
func BenchmarkEncodeLlama3Special(b *testing.B) {
	tok := llama3JSON(b)
	text, want := benchText(b, "llama3")
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, EncodeOptions{ParseSpecial: true})
	}
	b.ReportMetric(float64(len(want)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
