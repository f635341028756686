package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Split is a pre-tokenizer rule: how text is cut into the pieces that
// byte-level BPE merges independently.
type Split int

const (
	// SplitLlama3 is the Llama 3 rule (tokenizer.ggml.pre "llama-bpe"), the
	// regular expression
	//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
	//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
	// implemented as a scanner (Go's regexp has no lookahead).
	SplitLlama3 Split = iota
	// SplitGPT2 is the GPT-2 rule (tokenizer.ggml.pre "gpt-2"):
	//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
	SplitGPT2
	// SplitNone keeps the text whole (SentencePiece-style models).
	SplitNone
)

// String returns the GGUF tokenizer.ggml.pre name of the rule.
func (s Split) String() string {
	switch s {
	case SplitLlama3:
		return "llama-bpe"
	case SplitGPT2:
		return "gpt-2"
	}
	return "none"
}

// Character classes of the split rules: \p{L}, \p{N}, \s, anything else.
// Bytes that are not valid UTF-8 count as "other", like the U+FFFD they
// would decode to, but keep their original value.
const (
	classOther uint8 = iota
	classLetter
	classNumber
	classSpace
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		asciiClass[c] = classOfRune(rune(c))
	}
}

func classOfRune(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// charAt decodes the character at byte offset p of s and returns its
// class, its value (utf8.RuneError for an invalid byte) and its length.
func charAt(s string, p int) (uint8, rune, int) {
	c := s[p]
	if c < utf8.RuneSelf {
		return asciiClass[c], rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s[p:])
	if r == utf8.RuneError && n == 1 {
		return classOther, r, 1
	}
	return classOfRune(r), r, n
}

// classAt is charAt's class, or classNone past the end of s.
func classAt(s string, p int) uint8 {
	if p >= len(s) {
		return classNone
	}
	c, _, _ := charAt(s, p)
	return c
}

// classNone marks a position past the end of the text: it belongs to no
// class, so no rule consumes it.
const classNone uint8 = 255

// nextWord returns the end of the piece of s that starts at byte offset pos
// under the rule (pos < len(s)).
func (sp Split) nextWord(s string, pos int) int {
	switch sp {
	case SplitLlama3:
		return nextLlama3(s, pos)
	case SplitGPT2:
		return nextGPT2(s, pos)
	}
	return len(s)
}

// contraction returns the end of an English contraction ('s 't 'm 'd 're
// 've 'll) starting at pos, or 0. caseless folds the letters first, as the
// Llama 3 rule's (?i:...) does.
func contraction(s string, pos int, caseless bool) int {
	if s[pos] != '\'' || pos+1 >= len(s) {
		return 0
	}
	_, r1, n1 := charAt(s, pos+1)
	if caseless {
		r1 = unicode.ToLower(r1)
	}
	switch r1 {
	case 's', 't', 'm', 'd':
		return pos + 1 + n1
	}
	p2 := pos + 1 + n1
	if p2 >= len(s) {
		return 0
	}
	_, r2, n2 := charAt(s, p2)
	if caseless {
		r2 = unicode.ToLower(r2)
	}
	if r1 == 'r' && r2 == 'e' || r1 == 'v' && r2 == 'e' || r1 == 'l' && r2 == 'l' {
		return p2 + n2
	}
	return 0
}

// whitespaceRun measures the run of whitespace starting at pos. It returns
// the end of the run, the start of its last character, and the end of its
// last '\r' or '\n' (0 when it has none).
func whitespaceRun(s string, pos int) (end, lastStart, lastNewlineEnd int, count int) {
	end = pos
	for end < len(s) {
		c, r, n := charAt(s, end)
		if c != classSpace {
			break
		}
		lastStart = end
		end += n
		count++
		if r == '\r' || r == '\n' {
			lastNewlineEnd = end
		}
	}
	return end, lastStart, lastNewlineEnd, count
}

// nextLlama3 is one step of the Llama 3 split, alternative by alternative in
// the order of the regular expression (the same walk as llama.cpp's
// unicode_regex_split_custom_llama3).
func nextLlama3(s string, pos int) int {
	c, r, n := charAt(s, pos)

	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if end := contraction(s, pos, true); end > 0 {
		return end
	}

	// [^\r\n\p{L}\p{N}]?\p{L}+
	if r != '\r' && r != '\n' && c != classNumber {
		if c == classLetter || classAt(s, pos+n) == classLetter {
			p := pos + n
			for p < len(s) {
				c2, _, n2 := charAt(s, p)
				if c2 != classLetter {
					break
				}
				p += n2
			}
			return p
		}
	}

	// \p{N}{1,3}
	if c == classNumber {
		p := pos + n
		for k := 1; k < 3 && p < len(s); k++ {
			c2, _, n2 := charAt(s, p)
			if c2 != classNumber {
				break
			}
			p += n2
		}
		return p
	}

	// ' '?[^\s\p{L}\p{N}]+[\r\n]*
	p, c2 := pos, c
	if r == ' ' {
		p, c2 = pos+1, classAt(s, pos+1)
	}
	if c2 == classOther {
		for p < len(s) {
			c3, _, n3 := charAt(s, p)
			if c3 != classOther {
				break
			}
			p += n3
		}
		for p < len(s) && (s[p] == '\r' || s[p] == '\n') {
			p++
		}
		return p
	}

	end, lastStart, lastNewlineEnd, count := whitespaceRun(s, pos)
	switch {
	case lastNewlineEnd > 0: // \s*[\r\n]+
		return lastNewlineEnd
	case count > 1 && end < len(s): // \s+(?!\S)
		return lastStart
	case count > 0: // \s+
		return end
	}
	return pos + n
}

// nextGPT2 is one step of the GPT-2 split (llama.cpp's
// unicode_regex_split_custom_gpt2).
func nextGPT2(s string, pos int) int {
	c, r, n := charAt(s, pos)

	// 's|'t|'re|'ve|'m|'ll|'d
	if end := contraction(s, pos, false); end > 0 {
		return end
	}

	// ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+
	p, c2 := pos, c
	if r == ' ' {
		p, c2 = pos+1, classAt(s, pos+1)
	}
	if c2 == classLetter || c2 == classNumber || c2 == classOther {
		for p < len(s) {
			c3, _, n3 := charAt(s, p)
			if c3 != c2 {
				break
			}
			p += n3
		}
		return p
	}

	end, lastStart, _, count := whitespaceRun(s, pos)
	switch {
	case count > 1 && end < len(s): // \s+(?!\S)
		return lastStart
	case count > 0: // \s+
		return end
	}
	return pos + n
}
