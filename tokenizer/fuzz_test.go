package tokenizer

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fuzzTokenizers are the real tokenizers when the shared data is present,
// else nil; loading them once keeps fuzzing fast.
var fuzzTokenizers struct {
	once           sync.Once
	llama3, llama2 *Tokenizer
	llama2JSON     *Tokenizer // KindFallbackBPE
}

func realTokenizers() (llama3, llama2 *Tokenizer) {
	fuzzTokenizers.once.Do(func() {
		if p := tryTokenizerPath("llama3/tokenizer.json"); p != "" {
			fuzzTokenizers.llama3, _ = FromJSON(p)
		}
		if p := tryTokenizerPath("llama2/tokenizer.model"); p != "" {
			fuzzTokenizers.llama2, _ = FromSentencePiece(p)
		}
		if p := tryTokenizerPath("llama2/tokenizer.json"); p != "" {
			fuzzTokenizers.llama2JSON, _ = FromJSON(p)
		}
	})
	return fuzzTokenizers.llama3, fuzzTokenizers.llama2
}

// realFallbackBPE is the Llama 2 tokenizer.json (BPE with byte fallback)
// when the shared data is present, else nil.
func realFallbackBPE() *Tokenizer {
	realTokenizers()
	return fuzzTokenizers.llama2JSON
}

// tryTokenizerPath is tokenizerPath without skipping: "" when the shared
// data is absent.
func tryTokenizerPath(rel string) string {
	td, err := sharedTestdata()
	if err != nil {
		return ""
	}
	return filepath.Join(td, "tokenizers", rel)
}

var fuzzTexts = []string{
	"", " ", "Hello world", "  two leading spaces", "emoji: 😀👍🏽🇺🇸 🤖", "中文测试，日本語",
	"<|begin_of_text|>Hi<|eot_id|>", "<s>x</s> <unk>", "<|bos|>the<tool>", "I'M can't WE'LL",
	"\xff\xfe\xe2\x96", "a\xe2\x96 b", "\t\t\r\n  x  ", "12345678", "naïve café", "a\u00a0b",
	"!!!??? ...\n\n\n", "\u0301\u0301a", "'", "' ", "'s", "x'S", "\u2581 weird",
}

// checkByteLevel asserts the properties every byte-level BPE encoding has.
func checkByteLevel(t *testing.T, tok *Tokenizer, text string) {
	for _, opts := range []EncodeOptions{{}, {ParseSpecial: true}, {AddBOS: true}} {
		ids := tok.Encode(text, opts)
		checkIDs(t, tok, ids)
		if opts.AddBOS && tok.BOS() >= 0 {
			ids = ids[1:]
		}
		got := tok.Decode(ids)
		if got != text {
			t.Fatalf("%v: Decode(Encode(%q, %+v)) = %q", tok.Kind(), text, opts, got)
		}
		if s := streamAll(t, tok, ids); s != validUTF8(got) {
			t.Fatalf("stream = %q, want %q", s, validUTF8(got))
		}
	}
}

func FuzzByteLevel(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	tiny := tinyByteLevel(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkByteLevel(t, tiny, text)
		if llama3, _ := realTokenizers(); llama3 != nil {
			checkByteLevel(t, llama3, text)
		}
	})
}

func checkSentencePiece(t *testing.T, tok *Tokenizer, text string) {
	for _, opts := range []EncodeOptions{{}, {ParseSpecial: true}} {
		ids := tok.Encode(text, opts)
		checkIDs(t, tok, ids)
		got := tok.Decode(ids)
		// SentencePiece spells a space "▁", so a literal "▁" cannot come
		// back, and invalid UTF-8 can mix with the "▁" bytes.
		if utf8.ValidString(text) && !strings.Contains(text, spaceMark) && got != text {
			t.Fatalf("Decode(Encode(%q, %+v)) = %q (ids %v)", text, opts, got, ids)
		}
		if s := streamAll(t, tok, ids); s != validUTF8(got) {
			t.Fatalf("stream = %q, want %q", s, validUTF8(got))
		}
	}
}

func FuzzSentencePiece(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	tiny := tinySentencePiece(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkSentencePiece(t, tiny, text)
		if _, llama2 := realTokenizers(); llama2 != nil {
			checkSentencePiece(t, llama2, text)
		}
	})
}

// tinyFallbackJSON is a small Llama 2 style tokenizer.json: "▁" for
// spaces with one in front, merges, byte fallback and <unk>.
const tinyFallbackJSON = `{
  "added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
    {"id": 2, "content": "</s>", "special": true}],
  "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
  "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
    {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
    {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
  "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>", "fuse_unk": true,
    "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x0A>": 3, "<0xC3>": 4, "<0xA9>": 5, "<0xF0>": 6, "<0x9F>": 7,
      "<0x98>": 8, "<0x80>": 9, "\u2581": 10, "t": 11, "h": 12, "e": 13, "a": 14, "n": 15, "\u2581t": 16,
      "he": 17, "\u2581the": 18, "\u2581a": 19, "\u2581an": 20, "\u2581\u2581": 21},
    "merges": ["\u2581 t", "h e", "\u2581t he", "\u2581 a", "\u2581a n", "\u2581 \u2581"]}
}`

// checkFallbackBPE asserts the properties every encoding of a BPE with
// byte fallback has: ids in range, a stream decoder that writes valid UTF-8
// and agrees with Decode, and valid UTF-8 text without "▁" that comes back
// whole when every character has a token or byte token.
func checkFallbackBPE(t *testing.T, tok *Tokenizer, text string, roundTrip bool) {
	for _, opts := range []EncodeOptions{{}, {ParseSpecial: true}, {AddBOS: true}} {
		ids := tok.Encode(text, opts)
		checkIDs(t, tok, ids)
		if opts.AddBOS && tok.BOS() >= 0 {
			if len(ids) == 0 || ids[0] != tok.BOS() {
				t.Fatalf("Encode(%q, %+v) = %v does not start with BOS %d", text, opts, ids, tok.BOS())
			}
			ids = ids[1:]
		}
		got := tok.Decode(ids)
		if roundTrip && utf8.ValidString(text) && !strings.Contains(text, spaceMark) && got != text {
			t.Fatalf("Decode(Encode(%q, %+v)) = %q (ids %v)", text, opts, got, ids)
		}
		if s := streamAll(t, tok, ids); s != validUTF8(got) {
			t.Fatalf("stream = %q, want %q", s, validUTF8(got))
		}
	}
}

// FuzzFallbackBPE feeds arbitrary text to the Llama 2 tokenizer.json and a
// tiny tokenizer of the same kind.
func FuzzFallbackBPE(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	tiny, err := ParseJSON([]byte(tinyFallbackJSON))
	if err != nil {
		f.Fatal(err)
	}
	if tiny.Kind() != KindFallbackBPE {
		f.Fatalf("tiny tokenizer.json: kind %v", tiny.Kind())
	}
	f.Fuzz(func(t *testing.T, text string) {
		// The tiny vocabulary lacks most bytes, which become <unk>.
		checkFallbackBPE(t, tiny, text, false)
		if llama2 := realFallbackBPE(); llama2 != nil {
			checkFallbackBPE(t, llama2, text, true)
		}
	})
}

// Arbitrary id sequences, in and out of range: the stream always prints
// valid UTF-8 and agrees with Decode.
func FuzzStreamDecoder(f *testing.F) {
	f.Add([]byte{0xF0, 0, 0x9F, 0, 0xA6, 0, 0x99, 0})
	f.Add([]byte{0xE2, 0, 'a', 0, 0xFF, 0xFF, 10, 1})
	tiny := []*Tokenizer{tinyByteLevel(f), tinySentencePiece(f)}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tok := range tiny {
			ids := make([]int, 0, len(data)/2)
			for i := 0; i+1 < len(data); i += 2 {
				ids = append(ids, int(binary.LittleEndian.Uint16(data[i:]))%(tok.VocabSize()+4)-2)
			}
			want := validUTF8(tok.Decode(ids))
			if got := streamAll(t, tok, ids); got != want {
				t.Fatalf("%v: stream %q, Decode %q", tok.Kind(), got, want)
			}
		}
	})
}

// Arbitrary GGUF tokenizer metadata loads or fails, and what loads encodes
// within range.
func FuzzGGUFMetadata(f *testing.F) {
	f.Add("a\x00b\x00ab\x00<s>", "a b\x00b a\x00x y", []byte{1, 1, 1, 3}, false, "abab <s> x")
	f.Add("<unk>\x00<s>\x00\u2581\x00\u2581a\x00a", "", []byte{2, 3, 1, 1, 1}, true, "a aa")
	f.Add("", "", []byte{}, true, "")
	f.Fuzz(func(t *testing.T, tokens, merges string, types []byte, spm bool, text string) {
		kv := map[string]any{keyModel: "gpt2", keyTokens: strings.Split(tokens, "\x00"), keyBOS: uint32(1), keyEOS: uint32(len(types))}
		if merges != "" {
			kv[keyMerges] = strings.Split(merges, "\x00")
		}
		if spm {
			kv[keyModel] = "llama"
			scores := make([]float32, len(kv[keyTokens].([]string)))
			for i := range scores {
				scores[i] = float32(math.Sin(float64(i)))
			}
			kv[keyScores] = scores
		}
		ty := make([]int32, len(types))
		for i, b := range types {
			ty[i] = int32(int8(b))
		}
		kv[keyTokenType] = ty
		tok, err := ggufTokenizer(t, kv)
		if err != nil {
			return
		}
		for _, opts := range []EncodeOptions{{}, {AddBOS: true, ParseSpecial: true}} {
			ids := tok.Encode(text, opts)
			checkIDs(t, tok, ids)
			streamAll(t, tok, ids)
			tok.GGUFMetadata()
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"added_tokens": [{"id": 3, "content": "<s>", "special": true}], "pre_tokenizer": {"type": "ByteLevel"},
	  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`))
	f.Add([]byte(`{"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
	  {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
	  "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>", "vocab": {"<unk>": 0, "\u2581": 1, "a": 2, "\u2581a": 3, "<0x0A>": 4},
	  "merges": [["\u2581", "a"]]}}`))
	f.Add([]byte(`{"model": {"vocab": {"\u00e9\ud83d\ude00": 0}, "merges": null}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x"}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseJSON(data)
		if err != nil {
			return
		}
		ids := tok.Encode("a ab\n<s> é😀", EncodeOptions{AddBOS: true, ParseSpecial: true})
		checkIDs(t, tok, ids)
		tok.Decode(ids)
	})
}

// protoPiece encodes one ModelProto.SentencePiece for the seed corpus.
func protoPiece(piece string, score float32, typ TokenType) []byte {
	var p []byte
	p = append(p, 0x0A, byte(len(piece)))
	p = append(p, piece...)
	p = append(p, 0x15)
	p = binary.LittleEndian.AppendUint32(p, math.Float32bits(score))
	p = append(p, 0x18, byte(typ))
	return append([]byte{0x0A, byte(len(p))}, p...)
}

func FuzzParseSentencePiece(f *testing.F) {
	var model []byte
	for i, p := range []string{"<unk>", "<s>", "</s>", "\u2581", "a", "\u2581a", "<0x0A>"} {
		typ := TypeNormal
		switch i {
		case 0:
			typ = TypeUnknown
		case 1, 2:
			typ = TypeControl
		case 6:
			typ = TypeByte
		}
		model = append(model, protoPiece(p, -float32(i), typ)...)
	}
	model = append(model, 0x1A, 0x02, 0x18, 0x00) // normalizer_spec {add_dummy_prefix: false}
	f.Add(model)
	f.Add([]byte{0x12, 0x03, 0xC0, 0x02, 0x7F}) // trainer_spec {unk_id: 127}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseSentencePiece(data)
		if err != nil {
			return
		}
		ids := tok.Encode("a a\n<s>", EncodeOptions{AddBOS: true, ParseSpecial: true})
		checkIDs(t, tok, ids)
		tok.Decode(ids)
	})
}
