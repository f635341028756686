package tokenizer

import "sort"

// specialMatcher finds special and added tokens in text: the tokens that are
// cut out of the text before pre-tokenization and become one id each.
// Matching is leftmost-longest.
type specialMatcher struct {
	// byFirst lists, per first byte, the candidate tokens longest first.
	byFirst [256][]specialToken
	any     bool
}

type specialToken struct {
	text string
	id   int32
	// always is true for user-defined tokens, which are matched even when
	// special-token parsing is off (as llama.cpp and Hugging Face do).
	always bool
}

func newSpecialMatcher(pieces []string, types []TokenType) *specialMatcher {
	m := &specialMatcher{}
	for id, p := range pieces {
		if p == "" {
			continue
		}
		switch types[id] {
		case TypeControl, TypeUnknown:
			m.add(specialToken{text: p, id: int32(id)})
		case TypeUserDefined:
			m.add(specialToken{text: p, id: int32(id), always: true})
		}
	}
	for b := range m.byFirst {
		c := m.byFirst[b]
		sort.SliceStable(c, func(i, j int) bool { return len(c[i].text) > len(c[j].text) })
	}
	return m
}

func (m *specialMatcher) add(t specialToken) {
	m.byFirst[t.text[0]] = append(m.byFirst[t.text[0]], t)
	m.any = true
}

// fragment is a piece of the input: raw text (id < 0) or one special token.
type fragment struct {
	text  string
	start int // byte offset in the whole input
	id    int32
}

// split cuts text into fragments. With parseSpecial false only user-defined
// tokens are matched.
func (m *specialMatcher) split(text string, parseSpecial bool, dst []fragment) []fragment {
	if !m.any {
		if text != "" {
			dst = append(dst, fragment{text: text, id: -1})
		}
		return dst
	}
	last := 0
	for i := 0; i < len(text); {
		cands := m.byFirst[text[i]]
		matched := false
		for _, c := range cands {
			if !parseSpecial && !c.always {
				continue
			}
			if len(text)-i >= len(c.text) && text[i:i+len(c.text)] == c.text {
				if i > last {
					dst = append(dst, fragment{text: text[last:i], start: last, id: -1})
				}
				dst = append(dst, fragment{text: c.text, start: i, id: c.id})
				i += len(c.text)
				last = i
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	if last < len(text) {
		dst = append(dst, fragment{text: text[last:], start: last, id: -1})
	}
	return dst
}
