package tokenizer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// The split patterns bitnet implements, as tokenizer.json spells them.
const (
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt2Pattern   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// maxJSONSize bounds the tokenizer.json read into memory.
const maxJSONSize = 256 << 20

// hfTokenizer is the part of a Hugging Face tokenizer.json bitnet reads.
type hfTokenizer struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    *hfNode `json:"normalizer"`
	PreTokenizer  *hfNode `json:"pre_tokenizer"`
	PostProcessor *hfNode `json:"post_processor"`
	Decoder       *hfNode `json:"decoder"`
	Model         struct {
		Type                    string  `json:"type"`
		UnkToken                *string `json:"unk_token"`
		FuseUnk                 bool    `json:"fuse_unk"`
		ByteFallback            bool    `json:"byte_fallback"`
		IgnoreMerges            bool    `json:"ignore_merges"`
		ContinuingSubwordPrefix *string `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string `json:"end_of_word_suffix"`
	} `json:"model"`
	// large holds model.vocab and model.merges, read apart (jsonscan.go).
	large hfLarge
}

// hfNode is any normalizer, pre-tokenizer, post-processor or decoder.
type hfNode struct {
	Type          string    `json:"type"`
	Normalizers   []*hfNode `json:"normalizers"`
	Pretokenizers []*hfNode `json:"pretokenizers"`
	Decoders      []*hfNode `json:"decoders"`
	Processors    []*hfNode `json:"processors"`
	Pattern       struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content        string `json:"content"`
	Prepend        string `json:"prepend"`
	Replacement    string `json:"replacement"`
	PrependScheme  string `json:"prepend_scheme"`
	AddPrefixSpace *bool  `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
	Split          *bool  `json:"split"`
	Single         []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

// walk visits n and, for Sequence nodes, its children in order.
func (n *hfNode) walk(visit func(*hfNode)) {
	if n == nil {
		return
	}
	visit(n)
	for _, list := range [][]*hfNode{n.Normalizers, n.Pretokenizers, n.Decoders, n.Processors} {
		for _, c := range list {
			c.walk(visit)
		}
	}
}

// FromJSON loads a Hugging Face tokenizer.json: a BPE model with a
// ByteLevel pre-tokenizer (Llama 3 and GPT-2 style), or a BPE model with
// byte fallback and "▁" for spaces (Llama 2 style).
func FromJSON(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	defer f.Close()
	t, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return t, nil
}

// ReadJSON reads a tokenizer.json from r (see FromJSON).
func ReadJSON(r io.Reader) (*Tokenizer, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJSONSize+1))
	if err != nil {
		return nil, fmt.Errorf("read tokenizer.json: %w", err)
	}
	if len(data) > maxJSONSize {
		return nil, fmt.Errorf("%w: tokenizer.json larger than %d bytes", ErrFormat, maxJSONSize)
	}
	return ParseJSON(data)
}

// ParseJSON parses the bytes of a tokenizer.json (see FromJSON).
func ParseJSON(data []byte) (*Tokenizer, error) {
	rest, large, err := splitTokenizerJSON(data)
	if err != nil {
		return nil, err
	}
	h := hfTokenizer{large: large}
	if err := json.Unmarshal(rest, &h); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %v", ErrFormat, err)
	}
	t, err := h.source()
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	return t, nil
}

func (h *hfTokenizer) source() (*Tokenizer, error) {
	m := &h.Model
	if m.Type != "BPE" && !(m.Type == "" && h.large.hasVocab) {
		return nil, fmt.Errorf("%w: model type %q is not supported (want BPE)", ErrFormat, m.Type)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" || m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("%w: BPE with a subword prefix or suffix is not supported", ErrFormat)
	}

	byteLevel := false
	h.PreTokenizer.walk(func(n *hfNode) { byteLevel = byteLevel || n.Type == "ByteLevel" })
	h.Decoder.walk(func(n *hfNode) { byteLevel = byteLevel || n.Type == "ByteLevel" })
	var s *source
	if byteLevel {
		s = newSource(KindByteBPE)
		h.byteLevelOptions(s)
	} else {
		s = newSource(KindFallbackBPE)
		if err := h.fallbackOptions(s); err != nil {
			return nil, err
		}
	}
	s.ignoreMerges = m.IgnoreMerges
	s.fuseUnk = m.FuseUnk
	if m.UnkToken != nil {
		s.unkPiece = *m.UnkToken
	}

	// Ids: the model's vocabulary plus the added tokens.
	size := 0
	for _, v := range h.large.vocab {
		size = max(size, v.id+1) // ids are checked while reading
	}
	for _, a := range h.AddedTokens {
		if a.ID < 0 || a.ID >= maxVocab {
			return nil, fmt.Errorf("%w: added token %q has id %d", ErrFormat, a.Content, a.ID)
		}
		size = max(size, a.ID+1)
	}
	s.pieces = make([]string, size)
	s.types = make([]TokenType, size)
	for i := range s.types {
		s.types[i] = TypeUnused // ids nobody names
	}
	for _, v := range h.large.vocab {
		s.pieces[v.id] = v.piece
		s.types[v.id] = TypeNormal
	}
	for _, a := range h.AddedTokens {
		s.pieces[a.ID] = a.Content
		s.types[a.ID] = TypeUserDefined
		if a.Special {
			s.types[a.ID] = TypeControl
		}
	}
	if s.unkPiece != "" {
		for _, v := range h.large.vocab {
			if v.piece == s.unkPiece {
				s.types[v.id] = TypeUnknown
			}
		}
	}
	s.merges, s.mergePairs = h.large.merges, h.large.mergePairs

	h.specialTokens(s)
	return s.build()
}

// byteLevelOptions reads the split rule of a byte-level tokenizer.
func (h *hfTokenizer) byteLevelOptions(s *source) {
	s.split = SplitNone
	decided := false
	h.PreTokenizer.walk(func(n *hfNode) {
		switch n.Type {
		case "Split":
			if decided {
				s.warnf("more than one split rule in the pre-tokenizer: only the first is used")
				return
			}
			decided = true
			switch {
			case n.Pattern.Regex != nil && *n.Pattern.Regex == llama3Pattern:
				s.split = SplitLlama3
			case n.Pattern.Regex != nil && *n.Pattern.Regex == gpt2Pattern:
				s.split = SplitGPT2
			default:
				s.split = SplitLlama3
				s.warnf("unknown split pattern in the pre-tokenizer: using the Llama 3 split")
			}
		case "ByteLevel":
			if n.AddPrefixSpace != nil && *n.AddPrefixSpace {
				s.warnf("ByteLevel add_prefix_space is not supported: no space is added")
			}
			if !decided && (n.UseRegex == nil || *n.UseRegex) {
				decided = true
				s.split = SplitGPT2
			}
		case "Sequence":
		default:
			s.warnf("pre-tokenizer %q is not supported: ignored", n.Type)
		}
	})
	if !decided {
		s.split = SplitLlama3
	}
	h.Normalizer.walk(func(n *hfNode) {
		if n.Type != "Sequence" && n.Type != "NFC" {
			s.warnf("normalizer %q is not supported: ignored", n.Type)
		}
	})
}

// fallbackOptions reads where a Llama 2 style tokenizer puts its "▁".
func (h *hfTokenizer) fallbackOptions(s *source) error {
	spaces := false
	h.Normalizer.walk(func(n *hfNode) {
		switch n.Type {
		case "Prepend":
			if n.Prepend == spaceMark {
				s.prefix = prefixEachFragment
			} else {
				s.warnf("normalizer Prepend %q is not supported: ignored", n.Prepend)
			}
		case "Replace":
			if n.Pattern.String != nil && *n.Pattern.String == " " && n.Content == spaceMark {
				spaces = true
			} else {
				s.warnf("normalizer Replace is not supported except \" \" -> \"▁\": ignored")
			}
		case "Sequence", "NFC", "NFKC":
		default:
			s.warnf("normalizer %q is not supported: ignored", n.Type)
		}
	})
	h.PreTokenizer.walk(func(n *hfNode) {
		switch n.Type {
		case "Metaspace":
			spaces = true
			switch {
			case n.PrependScheme == "first":
				s.prefix = prefixFirst
			case n.PrependScheme == "never":
				s.prefix = prefixNever
			case n.PrependScheme == "always" || n.AddPrefixSpace == nil || *n.AddPrefixSpace:
				s.prefix = prefixEachFragment
			}
			if n.Split != nil && *n.Split {
				s.warnf("Metaspace split is not supported: the text is merged whole")
			}
		case "Sequence":
		default:
			s.warnf("pre-tokenizer %q is not supported: ignored", n.Type)
		}
	})
	if !spaces && s.prefix == prefixNever && !h.Model.ByteFallback {
		return fmt.Errorf("%w: a BPE model without ByteLevel, byte fallback or \"▁\" spaces is not supported", ErrFormat)
	}
	return nil
}

// specialTokens finds BOS and EOS: from the post-processor's template, else
// by their usual names.
func (h *hfTokenizer) specialTokens(s *source) {
	h.PostProcessor.walk(func(n *hfNode) {
		if n.Type != "TemplateProcessing" || len(n.Single) == 0 || n.Single[0].SpecialToken == nil {
			return
		}
		name := n.Single[0].SpecialToken.ID
		if st, ok := n.SpecialTokens[name]; ok && len(st.IDs) == 1 && st.IDs[0] >= 0 && st.IDs[0] < len(s.pieces) {
			s.bos = st.IDs[0]
			s.addBOS = true
		}
	})
	byName := func(names ...string) int {
		for _, name := range names {
			for id, p := range s.pieces {
				if p == name && s.types[id] == TypeControl {
					return id
				}
			}
		}
		return -1
	}
	if s.bos < 0 {
		s.bos = byName("<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>")
	}
	s.eos = byName("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>")
}
