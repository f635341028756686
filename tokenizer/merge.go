package tokenizer

// The merge engine shared by the three encoders: the symbols of one piece of
// text form a doubly linked list, and a binary heap holds candidate merges of
// adjacent symbols, best first. Popping a candidate whose symbols have
// changed since it was pushed skips it; merging pushes the two new
// neighbouring pairs. Every step is O(log n), so a piece of n bytes costs
// O(n log n) instead of the O(n²) of rescanning all pairs after each merge.

// symbol is one element of the list: a byte span of the text being merged.
// A symbol absorbed into its left neighbour has start == end.
type symbol struct {
	start, end int32
	prev, next int32
	id         int32 // token of the span, -1 when not (yet) known
}

// candidate is a possible merge of symbols left and right (adjacent when
// pushed) into token id. size is their combined length when pushed: if it
// changed, one of them has merged with something else since.
type candidate struct {
	prio  float64 // higher merges first
	left  int32
	right int32
	size  int32
	id    int32
}

// before orders candidates: higher priority first, then leftmost, the
// tie-break of both llama.cpp and Hugging Face.
func (a *candidate) before(b *candidate) bool {
	return a.prio > b.prio || a.prio == b.prio && a.left < b.left
}

// merger holds the reusable buffers of one encoding call.
type merger struct {
	t *Tokenizer
	// byScore selects SentencePiece merging: two symbols merge when their
	// concatenated text is a token, highest token score first. Otherwise
	// they merge when their token pair is a BPE merge, lowest rank first.
	byScore bool
	text    string // the text the symbols' spans index
	syms    []symbol
	heap    []candidate
}

// pair proposes the merge of adjacent symbols l and r.
func (m *merger) pair(l, r int32) (candidate, bool) {
	a, b := &m.syms[l], &m.syms[r]
	if m.byScore {
		id, ok := m.t.vocab[m.text[a.start:b.end]]
		if !ok {
			return candidate{}, false
		}
		return candidate{prio: float64(m.t.scores[id]), left: l, right: r, size: b.end - a.start, id: id}, true
	}
	if a.id < 0 || b.id < 0 {
		return candidate{}, false
	}
	v, ok := m.t.merges[pairKey(a.id, b.id)]
	if !ok {
		return candidate{}, false
	}
	return candidate{prio: -float64(v.rank), left: l, right: r, size: b.end - a.start, id: v.id}, true
}

// pairKey packs two token ids into the key of the merge table.
func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// mergeRule is a BPE merge: its rank (position in the merge list, lower
// merges first) and the token it produces.
type mergeRule struct {
	rank int32
	id   int32
}

func (m *merger) push(c candidate) {
	m.heap = append(m.heap, c)
	h := m.heap
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (m *merger) pop() candidate {
	h := m.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		best := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			best = r
		}
		if !h[best].before(&h[i]) {
			break
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
	m.heap = h
	return top
}

// link sets the prev/next fields of the freshly appended symbols.
func (m *merger) link() {
	n := int32(len(m.syms))
	for i := int32(0); i < n; i++ {
		m.syms[i].prev = i - 1
		m.syms[i].next = i + 1
	}
	if n > 0 {
		m.syms[n-1].next = -1
	}
}

// run merges until no candidate is left.
func (m *merger) run() {
	m.heap = m.heap[:0]
	for i := int32(1); i < int32(len(m.syms)); i++ {
		if c, ok := m.pair(i-1, i); ok {
			m.push(c)
		}
	}
	for len(m.heap) > 0 {
		c := m.pop()
		l, r := &m.syms[c.left], &m.syms[c.right]
		if l.start == l.end || r.start == r.end || (l.end-l.start)+(r.end-r.start) != c.size {
			continue
		}
		l.end = r.end
		l.id = c.id
		l.next = r.next
		r.start = r.end
		if l.next >= 0 {
			m.syms[l.next].prev = c.left
		}
		if l.prev >= 0 {
			if c2, ok := m.pair(l.prev, c.left); ok {
				m.push(c2)
			}
		}
		if l.next >= 0 {
			if c2, ok := m.pair(c.left, l.next); ok {
				m.push(c2)
			}
		}
	}
}
