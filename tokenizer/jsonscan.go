package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonScanner walks a JSON document without building it, so the two huge
// members of a tokenizer.json (model.vocab, 128k entries, and model.merges,
// 280k) can be read straight into the vocabulary instead of through
// encoding/json's reflection, which takes most of the load time.
type jsonScanner struct {
	data []byte
	pos  int
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: tokenizer.json at byte %d: %s", ErrFormat, s.pos, fmt.Sprintf(format, args...))
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// expect consumes byte c after optional white space.
func (s *jsonScanner) expect(c byte) error {
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != c {
		return s.errorf("expected %q", c)
	}
	s.pos++
	return nil
}

// peek returns the next non-space byte (0 at the end).
func (s *jsonScanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// rawString returns the extent of the string at pos, quotes included, and
// whether it holds escapes.
func (s *jsonScanner) rawString() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, s.errorf("expected a string")
	}
	start := s.pos
	escaped := false
	for i := start + 1; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return s.data[start:s.pos], escaped, nil
		case c == '\\':
			escaped = true
			i++
		case c < 0x20:
			return nil, false, s.errorf("control character in a string")
		}
	}
	return nil, false, s.errorf("unterminated string")
}

// readString reads a string value.
func (s *jsonScanner) readString() (string, error) {
	raw, escaped, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", s.errorf("bad string: %v", err)
	}
	return v, nil
}

// skipValue moves past one value of any kind and returns its bytes. It
// checks only what it needs to find the end; encoding/json validates the
// skipped values later.
func (s *jsonScanner) skipValue() ([]byte, error) {
	s.skipSpace()
	start := s.pos
	if s.pos >= len(s.data) {
		return nil, s.errorf("truncated value")
	}
	switch s.data[s.pos] {
	case '"':
		raw, _, err := s.rawString()
		return raw, err
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				if _, _, err := s.rawString(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.pos++
			if depth == 0 {
				return s.data[start:s.pos], nil
			}
		}
		return nil, s.errorf("truncated value")
	}
	// A number, true, false or null.
	for s.pos < len(s.data) && !strings.ContainsRune(",}] \t\r\n", rune(s.data[s.pos])) {
		s.pos++
	}
	if s.pos == start {
		return nil, s.errorf("expected a value")
	}
	return s.data[start:s.pos], nil
}

// object calls member for each key of the object at pos; member must
// consume the value.
func (s *jsonScanner) object(member func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		key, _, err := s.rawString()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errorf("expected ',' or '}'")
		}
	}
}

// array calls elem for each element of the array at pos; elem must consume
// the element.
func (s *jsonScanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errorf("expected ',' or ']'")
		}
	}
}

// readInt reads a non-negative integer below maxVocab.
func (s *jsonScanner) readInt() (int, error) {
	s.skipSpace()
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	n, err := strconv.Atoi(string(s.data[start:s.pos]))
	if err != nil || n >= maxVocab {
		return 0, s.errorf("bad token id %q", s.data[start:s.pos])
	}
	return n, nil
}

// hfLarge holds model.vocab and model.merges read by the scanner.
type hfLarge struct {
	vocab      []vocabEntry
	hasVocab   bool
	merges     []string
	mergePairs [][2]string
}

type vocabEntry struct {
	piece string
	id    int
}

// splitTokenizerJSON reads model.vocab and model.merges with the scanner and
// returns the rest of the document, re-assembled, for encoding/json.
func splitTokenizerJSON(data []byte) (rest []byte, large hfLarge, err error) {
	s := &jsonScanner{data: data}
	rest = append(rest, '{')
	first := true
	addMember := func(dst []byte, first *bool, key, value []byte) []byte {
		if !*first {
			dst = append(dst, ',')
		}
		*first = false
		dst = append(dst, key...)
		dst = append(dst, ':')
		return append(dst, value...)
	}
	err = s.object(func(key []byte) error {
		if string(key) != `"model"` || s.peek() != '{' {
			v, err := s.skipValue()
			if err != nil {
				return err
			}
			rest = addMember(rest, &first, key, v)
			return nil
		}
		model := []byte{'{'}
		firstInModel := true
		err := s.object(func(mkey []byte) error {
			switch string(mkey) {
			case `"vocab"`:
				large.hasVocab = true
				return s.readVocab(&large)
			case `"merges"`:
				return s.readMerges(&large)
			}
			v, err := s.skipValue()
			if err != nil {
				return err
			}
			model = addMember(model, &firstInModel, mkey, v)
			return nil
		})
		if err != nil {
			return err
		}
		rest = addMember(rest, &first, key, append(model, '}'))
		return nil
	})
	if err != nil {
		return nil, hfLarge{}, err
	}
	if s.peek() != 0 {
		return nil, hfLarge{}, s.errorf("data after the top-level object")
	}
	return append(rest, '}'), large, nil
}

func (s *jsonScanner) readVocab(large *hfLarge) error {
	if s.peek() == 'n' { // null
		_, err := s.skipValue()
		return err
	}
	return s.object(func(key []byte) error {
		piece, err := unquoteKey(key)
		if err != nil {
			return s.errorf("bad vocabulary key: %v", err)
		}
		id, err := s.readInt()
		if err != nil {
			return err
		}
		large.vocab = append(large.vocab, vocabEntry{piece, id})
		if len(large.vocab) > maxVocab {
			return s.errorf("more than %d vocabulary entries", maxVocab)
		}
		return nil
	})
}

func (s *jsonScanner) readMerges(large *hfLarge) error {
	if s.peek() == 'n' { // null
		_, err := s.skipValue()
		return err
	}
	return s.array(func() error {
		if len(large.merges)+len(large.mergePairs) >= 4*maxVocab {
			return s.errorf("more than %d merges", 4*maxVocab)
		}
		if s.peek() == '"' {
			m, err := s.readString()
			large.merges = append(large.merges, m)
			return err
		}
		var pair [2]string
		i := 0
		err := s.array(func() error {
			if i >= 2 {
				return s.errorf("a merge pair with more than two parts")
			}
			var err error
			pair[i], err = s.readString()
			i++
			return err
		})
		if err == nil && i != 2 {
			err = s.errorf("a merge pair with %d parts", i)
		}
		large.mergePairs = append(large.mergePairs, pair)
		return err
	})
}

// unquoteKey turns the raw bytes of a string (quotes included) into its
// value.
func unquoteKey(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}
