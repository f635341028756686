package tokenizer

import (
	"strings"
	"sync"
)

// TokenType is a token's kind, numbered as in GGUF tokenizer.ggml.token_type
// and SentencePiece.
type TokenType int32

// Token types.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3 // special tokens such as <|eot_id|>, <s>
	TypeUserDefined TokenType = 4 // added tokens matched in text even without special-token parsing
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6 // SentencePiece byte-fallback tokens <0xNN>
)

// Kind is the encoding algorithm behind a Tokenizer.
type Kind int

const (
	// KindByteBPE is byte-level BPE with merges (GGUF "gpt2"; Llama 3).
	KindByteBPE Kind = iota
	// KindSentencePiece merges by token score with byte fallback (GGUF
	// "llama"; Llama 2), as llama.cpp does.
	KindSentencePiece
	// KindFallbackBPE is BPE with merges over characters, spaces spelled
	// "▁" and byte fallback: a Hugging Face tokenizer.json in the Llama 2
	// style.
	KindFallbackBPE
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindByteBPE:
		return "byte-level BPE"
	case KindSentencePiece:
		return "SentencePiece"
	case KindFallbackBPE:
		return "BPE with byte fallback"
	}
	return "unknown"
}

// EncodeOptions control Encode. The zero value adds nothing and treats
// special-token text such as "<|eot_id|>" as plain text.
type EncodeOptions struct {
	// AddBOS puts the beginning-of-sequence token first (when the
	// vocabulary has one). AddBOSByDefault says whether the model expects it.
	AddBOS bool
	// ParseSpecial matches control tokens written in the text ("<s>",
	// "<|eot_id|>") as single ids. User-defined added tokens are matched
	// either way.
	ParseSpecial bool
}

// spaceMark is SentencePiece's spelling of a space (U+2581).
const spaceMark = "\u2581"

// prefixMode says where a SentencePiece-style tokenizer puts the "▁" that
// stands for a leading space.
type prefixMode int

const (
	prefixNever prefixMode = iota
	// prefixEachFragment: before every text fragment, i.e. at the start and
	// after each special token (llama.cpp's add_space_prefix; Hugging Face's
	// Prepend normalizer).
	prefixEachFragment
	// prefixFirst: only before text at the very start of the input
	// (Metaspace prepend_scheme "first").
	prefixFirst
)

// Tokenizer converts between text and token ids. It is safe for concurrent
// use.
type Tokenizer struct {
	kind   Kind
	pieces []string
	types  []TokenType
	scores []float32
	vocab  map[string]int32
	merges map[uint64]mergeRule
	// mergeList keeps the merges in rank order for export.
	mergeList []mergeEntry
	// byteToken is the token of each byte: its byte-level character
	// (KindByteBPE) or its <0xNN> token; -1 when the vocabulary lacks it.
	byteToken [256]int32

	split        Split
	ignoreMerges bool
	prefix       prefixMode
	unk          int32
	fuseUnk      bool

	bos, eos, eot, eom, pad int
	addBOS                  bool
	stops                   []int

	special      *specialMatcher
	chatTemplate string
	warnings     []string

	pool sync.Pool // *encoder
}

// encoder holds the scratch buffers of one Encode call.
type encoder struct {
	m     merger
	frags []fragment
	buf   []byte
}

func (t *Tokenizer) getEncoder() *encoder {
	if e, ok := t.pool.Get().(*encoder); ok {
		return e
	}
	return &encoder{m: merger{t: t}}
}

// Encode converts text to token ids.
func (t *Tokenizer) Encode(text string, opts EncodeOptions) []int {
	e := t.getEncoder()
	defer t.pool.Put(e)
	out := make([]int, 0, len(text)/3+2)
	if opts.AddBOS && t.bos >= 0 {
		out = append(out, t.bos)
	}
	e.frags = t.special.split(text, opts.ParseSpecial, e.frags[:0])
	afterSpecial := true
	for _, f := range e.frags {
		if f.id >= 0 {
			out = append(out, int(f.id))
			afterSpecial = true
			continue
		}
		switch t.kind {
		case KindByteBPE:
			for pos := 0; pos < len(f.text); {
				end := t.split.nextWord(f.text, pos)
				out = t.encodeByteLevelWord(e, f.text[pos:end], out)
				pos = end
			}
		case KindSentencePiece, KindFallbackBPE:
			prefix := t.prefix == prefixEachFragment && afterSpecial || t.prefix == prefixFirst && f.start == 0
			out = t.encodeSpaced(e, escapeSpaces(f.text, prefix), out)
		}
		afterSpecial = false
	}
	return out
}

// escapeSpaces spells spaces as "▁", optionally with one in front.
func escapeSpaces(s string, prefix bool) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4 + 3)
	if prefix {
		b.WriteString(spaceMark)
	}
	for {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteString(spaceMark)
		s = s[i+1:]
	}
	return b.String()
}

// encodeByteLevelWord encodes one pre-tokenized piece with byte-level BPE.
func (t *Tokenizer) encodeByteLevelWord(e *encoder, w string, out []int) []int {
	if len(w) == 1 {
		if id := t.byteToken[w[0]]; id >= 0 {
			out = append(out, int(id))
		}
		return out
	}
	if t.ignoreMerges {
		e.buf = appendByteLevel(e.buf[:0], w)
		if id, ok := t.vocab[string(e.buf)]; ok {
			return append(out, int(id))
		}
	}
	m := &e.m
	m.byScore = false
	m.syms = m.syms[:0]
	for i := 0; i < len(w); i++ {
		m.syms = append(m.syms, symbol{start: int32(i), end: int32(i + 1), id: t.byteToken[w[i]]})
	}
	m.link()
	m.run()
	for i := int32(0); i >= 0; i = m.syms[i].next {
		if id := m.syms[i].id; id >= 0 {
			out = append(out, int(id))
		}
	}
	return out
}

// encodeSpaced encodes text whose spaces are already spelled "▁", by scores
// (KindSentencePiece) or by merges with byte fallback (KindFallbackBPE).
func (t *Tokenizer) encodeSpaced(e *encoder, s string, out []int) []int {
	m := &e.m
	m.text = s
	m.syms = m.syms[:0]
	if t.kind == KindSentencePiece {
		m.byScore = true
		// llama.cpp cuts by the length its lead byte announces, so an
		// invalid byte sequence stays together.
		for i := 0; i < len(s); {
			n := min(utf8LenFromLead(s[i]), len(s)-i)
			m.syms = append(m.syms, symbol{start: int32(i), end: int32(i + n), id: -1})
			i += n
		}
	} else {
		m.byScore = false
		for i := 0; i < len(s); {
			_, _, n := charAt(s, i)
			if id, ok := t.vocab[s[i:i+n]]; ok {
				m.syms = append(m.syms, symbol{start: int32(i), end: int32(i + n), id: id})
			} else if t.hasBytes(s[i : i+n]) {
				for j := i; j < i+n; j++ {
					m.syms = append(m.syms, symbol{start: int32(j), end: int32(j + 1), id: t.byteToken[s[j]]})
				}
			} else if t.unk >= 0 {
				k := len(m.syms) - 1
				if t.fuseUnk && k >= 0 && m.syms[k].id == t.unk {
					m.syms[k].end = int32(i + n)
				} else {
					m.syms = append(m.syms, symbol{start: int32(i), end: int32(i + n), id: t.unk})
				}
			}
			i += n
		}
	}
	if len(m.syms) == 0 {
		return out
	}
	m.link()
	m.run()
	for i := int32(0); i >= 0; i = m.syms[i].next {
		sym := &m.syms[i]
		if t.kind == KindFallbackBPE {
			out = append(out, int(sym.id))
			continue
		}
		text := s[sym.start:sym.end]
		if id, ok := t.vocab[text]; ok {
			out = append(out, int(id))
			continue
		}
		for j := 0; j < len(text); j++ {
			out = t.appendByteFallback(out, text[j])
		}
	}
	return out
}

// hasBytes reports whether every byte of s has a byte token.
func (t *Tokenizer) hasBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if t.byteToken[s[i]] < 0 {
			return false
		}
	}
	return true
}

// appendByteFallback appends the token for a byte that no piece covers: its
// <0xNN> token, else the one-byte piece, else <unk>; nothing when the
// vocabulary has none of these.
func (t *Tokenizer) appendByteFallback(out []int, b byte) []int {
	if id := t.byteToken[b]; id >= 0 {
		return append(out, int(id))
	}
	if id, ok := t.vocab[string([]byte{b})]; ok {
		return append(out, int(id))
	}
	if t.unk >= 0 {
		return append(out, int(t.unk))
	}
	return out
}

// utf8LenFromLead is the sequence length a UTF-8 lead byte announces (1 for
// bytes that cannot start a sequence), as llama.cpp's unicode_len_utf8.
func utf8LenFromLead(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b < 0xC0:
		return 1
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	case b < 0xF8:
		return 4
	}
	return 1
}

// Kind returns the encoding algorithm.
func (t *Tokenizer) Kind() Kind { return t.kind }

// Split returns the pre-tokenizer rule of a byte-level BPE tokenizer
// (SplitNone for the others).
func (t *Tokenizer) Split() Split { return t.split }

// VocabSize returns the number of token ids, added tokens included.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the vocabulary entry of id as stored (byte-level or "▁"
// spelling), or "" when id is out of range.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Type returns the token type of id (TypeUndefined when out of range).
func (t *Tokenizer) Type(id int) TokenType {
	if id < 0 || id >= len(t.types) {
		return TypeUndefined
	}
	return t.types[id]
}

// ID returns the id of a vocabulary entry, spelled as stored.
func (t *Tokenizer) ID(piece string) (int, bool) {
	id, ok := t.vocab[piece]
	return int(id), ok
}

// IsControl reports whether id is a control token (BOS, EOS, <|eot_id|>...).
func (t *Tokenizer) IsControl(id int) bool { return t.Type(id) == TypeControl }

// BOS returns the beginning-of-sequence token, or -1.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the end-of-sequence token, or -1.
func (t *Tokenizer) EOS() int { return t.eos }

// EOT returns the end-of-turn token (<|eot_id|>, <|im_end|>...) when the
// vocabulary names one, or -1.
func (t *Tokenizer) EOT() int { return t.eot }

// AddBOSByDefault reports whether the model expects BOS in front of a
// prompt (GGUF tokenizer.ggml.add_bos_token, or the tokenizer.json
// post-processor).
func (t *Tokenizer) AddBOSByDefault() bool { return t.addBOS && t.bos >= 0 }

// StopTokens returns the tokens that end generation: EOS, the end-of-turn
// token, and the usual end markers present in the vocabulary as control or
// user-defined tokens (<|eot_id|>, <|end_of_text|>, <|eom_id|>,
// <|im_end|>, <|endoftext|>, </s>, <end_of_turn>).
func (t *Tokenizer) StopTokens() []int { return append([]int(nil), t.stops...) }

// ChatTemplate returns the chat template text stored with the tokenizer
// (GGUF tokenizer.chat_template), or "".
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// Warnings lists what was odd about the source but did not stop loading,
// such as an unknown pre-tokenizer or merges naming unknown tokens.
func (t *Tokenizer) Warnings() []string { return append([]string(nil), t.warnings...) }
