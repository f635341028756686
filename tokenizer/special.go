package tokenizer

// specialMatcher finds special and added tokens in text: the tokens that are
// cut out of the text before pre-tokenization and become one id each.
// Matching is leftmost-longest, with a byte trie so that text full of '<'
// costs a step or two per '<' however many "<|...|>" tokens there are.
type specialMatcher struct {
	root  [256]int32 // first byte -> node, 0 when no token starts with it
	nodes []trieNode // nodes[0] is unused
}

type trieNode struct {
	edges []trieEdge
	id    int32 // the token ending here, -1 if none
	// always is true for user-defined tokens, which are matched even when
	// special-token parsing is off (as llama.cpp and Hugging Face do).
	always bool
}

type trieEdge struct {
	b    byte
	next int32
}

func newSpecialMatcher(pieces []string, types []TokenType) *specialMatcher {
	m := &specialMatcher{nodes: make([]trieNode, 1)}
	for id, p := range pieces {
		if p == "" {
			continue
		}
		switch types[id] {
		case TypeControl, TypeUnknown:
			m.add(p, int32(id), false)
		case TypeUserDefined:
			m.add(p, int32(id), true)
		}
	}
	return m
}

func (m *specialMatcher) newNode() int32 {
	m.nodes = append(m.nodes, trieNode{id: -1})
	return int32(len(m.nodes) - 1)
}

func (m *specialMatcher) add(text string, id int32, always bool) {
	n := m.root[text[0]]
	if n == 0 {
		n = m.newNode()
		m.root[text[0]] = n
	}
	for i := 1; i < len(text); i++ {
		next := m.child(n, text[i])
		if next == 0 {
			next = m.newNode()
			m.nodes[n].edges = append(m.nodes[n].edges, trieEdge{text[i], next})
		}
		n = next
	}
	if m.nodes[n].id < 0 { // a repeated piece keeps its first id
		m.nodes[n].id = id
		m.nodes[n].always = always
	}
}

func (m *specialMatcher) child(n int32, b byte) int32 {
	for _, e := range m.nodes[n].edges {
		if e.b == b {
			return e.next
		}
	}
	return 0
}

// match returns the id and length of the longest token allowed at the start
// of s, or -1.
func (m *specialMatcher) match(s string, parseSpecial bool) (int32, int) {
	n := m.root[s[0]]
	id, length := int32(-1), 0
	for i := 1; n != 0; i++ {
		if node := &m.nodes[n]; node.id >= 0 && (parseSpecial || node.always) {
			id, length = node.id, i
		}
		if i == len(s) {
			break
		}
		n = m.child(n, s[i])
	}
	return id, length
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
	last := 0
	if len(m.nodes) > 1 {
		for i := 0; i < len(text); {
			if m.root[text[i]] == 0 {
				i++
				continue
			}
			id, n := m.match(text[i:], parseSpecial)
			if id < 0 {
				i++
				continue
			}
			if i > last {
				dst = append(dst, fragment{text: text[last:i], start: last, id: -1})
			}
			dst = append(dst, fragment{text: text[i : i+n], start: i, id: id})
			i += n
			last = i
		}
	}
	if last < len(text) {
		dst = append(dst, fragment{text: text[last:], start: last, id: -1})
	}
	return dst
}
