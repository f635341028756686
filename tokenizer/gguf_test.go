package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// viaGGUF writes tok's GGUF metadata into a tensor-less GGUF file, parses it
// back and loads the tokenizer from it.
func viaGGUF(t testing.TB, tok *Tokenizer) *Tokenizer {
	t.Helper()
	w := gguf.NewWriter()
	w.AddKV("general.architecture", "llama")
	tok.AddToGGUF(w)
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func llama2Model(t testing.TB) *Tokenizer {
	return load(t, "llama2/tokenizer.model", FromSentencePiece)
}

func TestLlama3GGUFMatchesJSON(t *testing.T) {
	js := llama3JSON(t)
	tok := viaGGUF(t, js)
	if tok.Kind() != KindByteBPE || tok.Split() != SplitLlama3 || tok.VocabSize() != 128256 {
		t.Fatalf("GGUF tokenizer: kind %v split %v vocab %d", tok.Kind(), tok.Split(), tok.VocabSize())
	}
	if len(tok.Warnings()) != 0 {
		t.Errorf("warnings: %q", tok.Warnings())
	}
	for _, c := range goldenCases(t) {
		checkEncode(t, tok, "llama3 gguf", c.Text, c.Llama3, EncodeOptions{ParseSpecial: true})
	}
	for _, c := range vectorCases(t, "llamacpp-llama-bpe-vectors.json") {
		checkEncode(t, tok, "llama-bpe vectors gguf", c.Text, c.IDs, EncodeOptions{})
	}
	text, want := benchText(t, "llama3")
	if got := tok.Encode(text, EncodeOptions{}); !slices.Equal(got, want) {
		t.Errorf("bench text: GGUF tokenizer differs from the reference (%d vs %d ids)", len(got), len(want))
	}
	if tok.BOS() != 128000 || tok.EOS() != 128001 || tok.EOT() != 128009 {
		t.Errorf("BOS/EOS/EOT = %d/%d/%d, want 128000/128001/128009", tok.BOS(), tok.EOS(), tok.EOT())
	}
}

// The tokenizer.model written as a "llama" GGUF must tokenize like
// llama.cpp: llama2_sentencepiece with special tokens as text, the
// parse_special variant with them matched, and llama.cpp's own vectors.
func TestSentencePieceGGUF(t *testing.T) {
	tok := viaGGUF(t, llama2Model(t))
	if tok.Kind() != KindSentencePiece || tok.VocabSize() != 32000 || tok.BOS() != 1 || tok.EOS() != 2 {
		t.Fatalf("kind %v vocab %d BOS %d EOS %d", tok.Kind(), tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	for _, c := range goldenCases(t) {
		if got := tok.Encode(c.Text, EncodeOptions{}); !slices.Equal(got, c.Llama2SentencePiece) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.Llama2SentencePiece)
		}
		if got := tok.Encode(c.Text, EncodeOptions{ParseSpecial: true}); !slices.Equal(got, c.Llama2SentencePieceSpecial) {
			t.Errorf("Encode(%q, ParseSpecial)\n got %v\nwant %v", c.Text, got, c.Llama2SentencePieceSpecial)
		}
		if c.Llama2Reliable {
			if back := tok.Decode(c.Llama2SentencePiece); back != c.Text {
				t.Errorf("Decode(Encode(%q)) = %q", c.Text, back)
			}
		}
	}
	for _, c := range vectorCases(t, "llamacpp-llama-spm-vectors.json") {
		checkEncode(t, tok, "llama-spm vectors", c.Text, c.IDs, EncodeOptions{})
	}
}

// The NBSP quirk (testdata README §5.1): tokenizer.json spells the four
// no-break-space pieces with U+0020, so it falls back to bytes where
// tokenizer.model uses those pieces. Both answers are in the cases.
func TestLlama2NBSPQuirk(t *testing.T) {
	js, sp := llama2JSON(t), llama2Model(t)
	seen := 0
	for _, c := range goldenCases(t) {
		if !bytes.Contains([]byte(c.Text), []byte("\u00a0")) {
			continue
		}
		seen++
		if slices.Equal(c.Llama2, c.Llama2SentencePiece) {
			t.Errorf("%q: expected the two references to differ", c.Text)
		}
		if got := js.Encode(c.Text, EncodeOptions{}); !slices.Contains(got, 197) || !slices.Contains(got, 163) {
			t.Errorf("tokenizer.json on %q: %v lacks the byte tokens <0xC2> <0xA0>", c.Text, got)
		}
		if got := sp.Encode(c.Text, EncodeOptions{}); !slices.Equal(got, c.Llama2SentencePiece) {
			t.Errorf("tokenizer.model on %q: %v, want %v", c.Text, got, c.Llama2SentencePiece)
		}
	}
	if seen == 0 {
		t.Fatal("no case with U+00A0")
	}
}

// A Llama 2 style tokenizer.json exported to GGUF becomes a SentencePiece
// vocabulary ranked by merges; it must still give the json's ids.
func TestFallbackBPEExport(t *testing.T) {
	js := llama2JSON(t)
	tok := viaGGUF(t, js)
	if tok.Kind() != KindSentencePiece {
		t.Fatalf("kind %v", tok.Kind())
	}
	for _, c := range goldenCases(t) {
		if c.Llama2Reliable {
			checkEncode(t, tok, "llama2 json→gguf", c.Text, c.Llama2, EncodeOptions{})
		}
	}
	for _, c := range vectorCases(t, "llamacpp-llama-spm-vectors.json") {
		checkEncode(t, tok, "llama-spm vectors json→gguf", c.Text, c.IDs, EncodeOptions{})
	}
}

// Every test model's GGUF tokenizer must reproduce the prompt llama.cpp
// made from prompt_text (BOS added, special tokens not parsed).
func TestModelPrompts(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(sharedDir(t), "models", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no model cases: %v", err)
	}
	kinds := map[Kind]int{}
	for _, dir := range dirs {
		var toks struct {
			PromptText string `json:"prompt_text"`
			Prompt     []int  `json:"prompt"`
		}
		readJSON(t, filepath.Join(dir, "tokens.json"), &toks)
		f, err := gguf.Open(filepath.Join(dir, "model.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := FromGGUF(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		kinds[tok.Kind()]++
		if !tok.AddBOSByDefault() {
			t.Errorf("%s: AddBOSByDefault false", filepath.Base(dir))
		}
		got := tok.Encode(toks.PromptText, EncodeOptions{AddBOS: tok.AddBOSByDefault()})
		if !slices.Equal(got, toks.Prompt) {
			t.Errorf("%s: Encode(%q)\n got %v\nwant %v", filepath.Base(dir), toks.PromptText, got, toks.Prompt)
		}
		if back := tok.Decode(got[1:]); back != toks.PromptText {
			t.Errorf("%s: Decode = %q", filepath.Base(dir), back)
		}
		if len(tok.Warnings()) != 0 {
			t.Errorf("%s: warnings %q", filepath.Base(dir), tok.Warnings())
		}
	}
	if kinds[KindByteBPE] == 0 || kinds[KindSentencePiece] == 0 {
		t.Errorf("expected both byte-level and SentencePiece models, got %v", kinds)
	}
}

func benchText(t testing.TB, which string) (string, []int) {
	t.Helper()
	var exp struct {
		TextFile string `json:"text_file"`
		Llama3   struct {
			IDs []int `json:"ids"`
		} `json:"llama3"`
		Llama2 struct {
			IDs []int `json:"ids"`
		} `json:"llama2"`
	}
	readJSON(t, tokenizerPath(t, "bench/expected.json"), &exp)
	data, err := os.ReadFile(tokenizerPath(t, exp.TextFile))
	if err != nil {
		t.Fatal(err)
	}
	if which == "llama3" {
		return string(data), exp.Llama3.IDs
	}
	return string(data), exp.Llama2.IDs
}
