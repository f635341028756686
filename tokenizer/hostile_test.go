package tokenizer

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestTinyTokenizers(t *testing.T) {
	bl := tinyByteLevel(t)
	n := bl.VocabSize()
	got := bl.Encode("<|bos|>the an<tool>", EncodeOptions{ParseSpecial: true})
	// "the" has no leading space, so only "h e" applies; " an" merges fully.
	want := []int{n - 3, 't', 257, 261, n - 1}
	if !slices.Equal(got, want) {
		t.Errorf("byte-level: got %v, want %v", got, want)
	}
	// Without special parsing the control token is text; the user-defined
	// one is still matched.
	got = bl.Encode("<|bos|><tool>", EncodeOptions{})
	if slices.Contains(got, n-3) || got[len(got)-1] != n-1 {
		t.Errorf("byte-level, no special parsing: %v", got)
	}

	sp := tinySentencePiece(t)
	base := 3 + 256
	got = sp.Encode("the an", EncodeOptions{AddBOS: true})
	want = []int{1, base + 3, base + 6} // <s> ▁the ▁an
	if !slices.Equal(got, want) {
		t.Errorf("SentencePiece: got %v, want %v", got, want)
	}
	// 'x' is not a piece: byte fallback.
	got = sp.Encode("x", EncodeOptions{})
	if !slices.Equal(got, []int{base, 3 + 'x'}) {
		t.Errorf("SentencePiece byte fallback: got %v", got)
	}
}

// Malformed metadata is an error, never a panic.
func TestGGUFHostileErrors(t *testing.T) {
	for name, edit := range map[string]func(kv map[string]any){
		"no model":          func(kv map[string]any) { delete(kv, keyModel) },
		"unsupported model": func(kv map[string]any) { kv[keyModel] = "bert" },
		"no tokens":         func(kv map[string]any) { delete(kv, keyTokens) },
		"tokens not strings": func(kv map[string]any) {
			kv[keyTokens] = []int32{1, 2, 3}
		},
		"empty vocabulary": func(kv map[string]any) {
			kv[keyTokens], kv[keyTokenType] = []string{}, []int32{}
		},
		"types too short": func(kv map[string]any) {
			kv[keyTokenType] = kv[keyTokenType].([]int32)[:10]
		},
		"types not integers": func(kv map[string]any) {
			kv[keyTokenType] = []string{"a"}
		},
		"scores too long": func(kv map[string]any) {
			kv[keyScores] = make([]float32, len(kv[keyTokens].([]string))+1)
		},
		"merges not strings": func(kv map[string]any) { kv[keyMerges] = []int32{1} },
	} {
		kv := tinyByteLevelKV()
		edit(kv)
		tok, err := ggufTokenizer(t, kv)
		if err == nil {
			t.Errorf("%s: loaded (%d tokens), want an error", name, tok.VocabSize())
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", name, err)
		}
	}
}

// Odd but usable metadata loads with warnings and encodes within range.
func TestGGUFHostileWarnings(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(kv map[string]any)
		warn string
	}{
		"merges with unknown pieces": {func(kv map[string]any) {
			kv[keyMerges] = append(kv[keyMerges].([]string), "no such", "Ġ zzz", "nospace", "")
		}, "merges name pieces"},
		"BOS out of range":   {func(kv map[string]any) { kv[keyBOS] = uint32(1 << 30) }, keyBOS},
		"EOS not an integer": {func(kv map[string]any) { kv[keyEOS] = "x" }, keyEOS},
		"unknown pre":        {func(kv map[string]any) { kv[keyPre] = "qwen9" }, "unknown pre-tokenizer"},
		"odd token types": {func(kv map[string]any) {
			ty := kv[keyTokenType].([]int32)
			ty[5], ty[6] = 99, -7
		}, ""},
		"no byte tokens": {func(kv map[string]any) {
			tokens := kv[keyTokens].([]string)
			for i := 0; i < 256; i += 2 {
				tokens[i] = "gone" + strings.Repeat("!", i)
			}
		}, "merges name pieces"},
		"duplicate tokens": {func(kv map[string]any) {
			tokens := kv[keyTokens].([]string)
			tokens[len(tokens)-4] = tokens[257]
		}, ""},
	} {
		kv := tinyByteLevelKV()
		c.edit(kv)
		tok, err := ggufTokenizer(t, kv)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.warn != "" && !strings.Contains(strings.Join(tok.Warnings(), "\n"), c.warn) {
			t.Errorf("%s: warnings %q lack %q", name, tok.Warnings(), c.warn)
		}
		for _, text := range []string{"the an", "<|bos|>x\xff\xfe 😀", "", "   "} {
			ids := tok.Encode(text, EncodeOptions{AddBOS: true, ParseSpecial: true})
			checkIDs(t, tok, ids)
			tok.Decode(ids)
		}
	}
	kv := tinyByteLevelKV()
	kv[keyBOS] = uint32(1 << 30)
	tok, _ := ggufTokenizer(t, kv)
	if tok.BOS() != -1 || tok.AddBOSByDefault() || len(tok.Encode("", EncodeOptions{AddBOS: true})) != 0 {
		t.Error("an out-of-range BOS is still used")
	}
}

// A SentencePiece vocabulary with neither byte tokens nor <unk> drops what
// it cannot spell instead of failing.
func TestSentencePieceWithoutFallback(t *testing.T) {
	kv := tinySentencePieceKV()
	tokens := kv[keyTokens].([]string)
	for i := 0; i < 3+256; i++ {
		tokens[i] = strings.Repeat("#", i+1)
	}
	delete(kv, keyUNK)
	delete(kv, keyTokenType)
	tok, err := ggufTokenizer(t, kv)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("the xyz é", EncodeOptions{AddBOS: true})
	checkIDs(t, tok, ids)
	// x, y and z have no token and are dropped.
	if ids[0] != 1 || tok.Decode(ids[1:]) != "the  é" {
		t.Errorf("Encode = %v, Decode after BOS = %q", ids, tok.Decode(ids[1:]))
	}
}

func TestJSONHostileErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":         `{"model": `,
		"unigram":          `{"model": {"type": "Unigram", "vocab": [["a", 0]]}}`,
		"negative id":      `{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}, "decoder": {"type": "ByteLevel"}}`,
		"huge id":          `{"model": {"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}, "decoder": {"type": "ByteLevel"}}`,
		"empty":            `{"model": {"type": "BPE", "vocab": {}, "merges": []}, "decoder": {"type": "ByteLevel"}}`,
		"bad merges":       `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1, 2]}, "decoder": {"type": "ByteLevel"}}`,
		"triple merge":     `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a", "a"]]}, "decoder": {"type": "ByteLevel"}}`,
		"trailing garbage": `{"model": {"type": "BPE", "vocab": {"a": 0}}, "decoder": {"type": "ByteLevel"}} x`,
		"added bad id":     `{"added_tokens": [{"id": -4, "content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}}, "decoder": {"type": "ByteLevel"}}`,
		"no spaces rule":   `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`,
	} {
		if _, err := ParseJSON([]byte(doc)); err == nil {
			t.Errorf("%s: loaded, want an error", name)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", name, err)
		}
	}
}

// A minimal byte-level tokenizer.json with merges given as pairs, escapes
// in pieces and a template post-processor.
func TestJSONMinimal(t *testing.T) {
	doc := `{
  "added_tokens": [{"id": 5, "content": "<s>", "special": true}, {"id": 6, "content": "<x>", "special": false}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                     "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120ab": 4}, "merges": [["a", "b"], ["\u0120", "ab"]]}
}`
	tok, err := ParseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Split() != SplitGPT2 || tok.BOS() != 5 || !tok.AddBOSByDefault() || tok.EOS() != -1 {
		t.Errorf("split %v BOS %d add %v EOS %d", tok.Split(), tok.BOS(), tok.AddBOSByDefault(), tok.EOS())
	}
	got := tok.Encode("ab ab<x>", EncodeOptions{AddBOS: true})
	if want := []int{5, 2, 4, 6}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if tok.Decode(got) != "<s>ab ab<x>" {
		t.Errorf("Decode = %q", tok.Decode(got))
	}
}
