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
	return ggufWith(t, tok, func(kv []gguf.KV) []gguf.KV { return kv })
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
// made from prompt_text (BOS added when the file asks for it, special
// tokens not parsed) and agree with the tokenizer settings its case.json
// lists: kind, split rule, BOS, EOS, UNK, add_bos, add_space_prefix. Each
// case is checked against its own settings, whatever mix of tokenizers the
// cases hold.
func TestModelPrompts(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(sharedDir(t), "models", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no model cases: %v", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		var toks struct {
			PromptText string `json:"prompt_text"`
			Prompt     []int  `json:"prompt"`
		}
		readJSON(t, filepath.Join(dir, "tokens.json"), &toks)
		var cs struct {
			Model struct {
				Tokenizer caseTokenizer `json:"tokenizer"`
			} `json:"model"`
		}
		readJSON(t, filepath.Join(dir, "case.json"), &cs)
		want := cs.Model.Tokenizer
		if want.AddBOS == nil {
			t.Errorf("%s: case.json gives no tokenizer.add_bos", name)
			continue
		}
		f, err := gguf.Open(filepath.Join(dir, "model.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := FromGGUF(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want.check(t, name, tok)
		got := tok.Encode(toks.PromptText, EncodeOptions{AddBOS: tok.AddBOSByDefault()})
		if !slices.Equal(got, toks.Prompt) {
			t.Errorf("%s: Encode(%q)\n got %v\nwant %v", name, toks.PromptText, got, toks.Prompt)
			continue
		}
		text := got
		if *want.AddBOS {
			text = got[1:]
		}
		if back := tok.Decode(text); back != toks.PromptText {
			t.Errorf("%s: Decode = %q, want %q", name, back, toks.PromptText)
		}
		if len(tok.Warnings()) != 0 {
			t.Errorf("%s: warnings %q", name, tok.Warnings())
		}
	}
}

// caseTokenizer is the "tokenizer" object of a model case's case.json; the
// fields a case leaves out are not checked.
type caseTokenizer struct {
	Model          string  `json:"model"` // GGUF tokenizer.ggml.model: "gpt2" or "llama"
	Pre            *string `json:"pre"`   // tokenizer.ggml.pre; null when the file has none
	BOS            *int    `json:"bos"`
	EOS            *int    `json:"eos"`
	UNK            *int    `json:"unk"`
	AddBOS         *bool   `json:"add_bos"`
	AddSpacePrefix *bool   `json:"add_space_prefix"`
}

// check compares tok with the settings.
func (c caseTokenizer) check(t *testing.T, name string, tok *Tokenizer) {
	t.Helper()
	kinds := map[string]Kind{"gpt2": KindByteBPE, "llama": KindSentencePiece}
	kind, ok := kinds[c.Model]
	if !ok {
		t.Errorf("%s: case.json tokenizer model %q is not gpt2 or llama", name, c.Model)
	} else if tok.Kind() != kind {
		t.Errorf("%s: kind %v, want %v (%s)", name, tok.Kind(), kind, c.Model)
	}
	if kind == KindByteBPE {
		split := SplitLlama3 // no tokenizer.ggml.pre: the Llama 3 rule
		if c.Pre != nil {
			split = preSplits[*c.Pre]
		}
		if tok.Split() != split {
			t.Errorf("%s: split %v, want %v (pre %v)", name, tok.Split(), split, c.Pre)
		}
	}
	for _, id := range []struct {
		what string
		got  int
		want *int
	}{{"BOS", tok.BOS(), c.BOS}, {"EOS", tok.EOS(), c.EOS}, {"UNK", int(tok.unk), c.UNK}} {
		if id.want != nil && id.got != *id.want {
			t.Errorf("%s: %s %d, want %d", name, id.what, id.got, *id.want)
		}
	}
	if c.AddBOS != nil && tok.AddBOSByDefault() != *c.AddBOS {
		t.Errorf("%s: AddBOSByDefault %v, want add_bos %v", name, tok.AddBOSByDefault(), *c.AddBOS)
	}
	if c.AddSpacePrefix != nil && (tok.prefix != prefixNever) != *c.AddSpacePrefix {
		t.Errorf("%s: space prefix %v, want add_space_prefix %v", name, tok.prefix, *c.AddSpacePrefix)
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

// ggufWith writes tok's GGUF metadata with edit applied to it (to drop or
// change keys), parses it back and loads the tokenizer from it.
func ggufWith(t testing.TB, tok *Tokenizer, edit func([]gguf.KV) []gguf.KV) *Tokenizer {
	t.Helper()
	w := gguf.NewWriter()
	w.AddKV("general.architecture", "llama")
	for _, kv := range edit(tok.GGUFMetadata()) {
		w.AddKV(kv.Key, kv.Value.Any())
	}
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

// splitWords cuts s into the pieces split makes of it.
func splitWords(split Split, s string) []string {
	var words []string
	for pos := 0; pos < len(s); {
		end := split.nextWord(s, pos)
		words = append(words, s[pos:end])
		pos = end
	}
	return words
}

// A "gpt2" GGUF without tokenizer.ggml.pre (the BitNet b1.58 2B4T file)
// must split text as Llama 3 does, not as GPT-2. The texts are reference
// strings on which the two rules cut differently: digit runs, upper-case
// contractions, spaces after line breaks, trailing spaces, letters after
// non-ASCII punctuation and spaces, tabs and CRLF. Each must give the
// reference ids; as a control, the GPT-2 rule must not give them where its
// pieces do not merge back to the same tokens.
func TestGGUFWithoutPreUsesLlama3Split(t *testing.T) {
	js := llama3JSON(t)
	withoutPre := func(kvs []gguf.KV) []gguf.KV {
		return slices.DeleteFunc(kvs, func(kv gguf.KV) bool { return kv.Key == keyPre })
	}
	tok := ggufWith(t, js, withoutPre)
	if tok.Split() != SplitLlama3 || len(tok.Warnings()) != 0 {
		t.Fatalf("without %s: split %v, warnings %q; want %v and none", keyPre, tok.Split(), tok.Warnings(), SplitLlama3)
	}
	gpt2 := ggufWith(t, js, func(kvs []gguf.KV) []gguf.KV {
		kvs = withoutPre(kvs)
		v, err := gguf.NewValue("gpt-2")
		if err != nil {
			t.Fatal(err)
		}
		return append(kvs, gguf.KV{Key: keyPre, Value: v})
	})
	if gpt2.Split() != SplitGPT2 {
		t.Fatalf("with %s gpt-2: split %v", keyPre, gpt2.Split())
	}

	reference := map[string][]int{}
	for _, c := range goldenCases(t) {
		if !c.Llama3HasSpecialTokens {
			reference[c.Text] = c.Llama3
		}
	}
	for _, c := range vectorCases(t, "llamacpp-llama-bpe-vectors.json") {
		reference[c.Text] = c.IDs
	}
	for _, c := range []struct {
		text string
		// gpt2Differs: the GPT-2 rule gives other ids. Where it does not,
		// the rules cut the text differently but the merges join the
		// pieces back to the same tokens.
		gpt2Differs bool
	}{
		{"12345 1234567 3.14159 -42", true},
		{"33333", true},
		{"I'm can't we'll THEY'RE you've", true},
		{"a\u00a0b\u2003c", true},
		{"\t\ttabs\r\nCRLF", true},
		{"   \n\n  trailing spaces   ", false},
		{"    Hello\n    Hello", false},
		{"中文测试，日本語のテキスト、한국어", false},
	} {
		want, ok := reference[c.text]
		if !ok {
			t.Errorf("%q is not among the reference strings", c.text)
			continue
		}
		if slices.Equal(splitWords(SplitLlama3, c.text), splitWords(SplitGPT2, c.text)) {
			t.Errorf("%q: the Llama 3 and GPT-2 rules cut it alike", c.text)
		}
		checkEncode(t, tok, "no pre", c.text, want, EncodeOptions{})
		if got := gpt2.Encode(c.text, EncodeOptions{}); slices.Equal(got, want) == c.gpt2Differs {
			t.Errorf("%q: the GPT-2 rule gives %v, the reference %v; want them to differ: %v", c.text, got, want, c.gpt2Differs)
		}
	}
	// And every other reference string.
	for text, want := range reference {
		checkEncode(t, tok, "no pre", text, want, EncodeOptions{})
	}
}
