package tokenizer

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFormat is wrapped by every error about a malformed tokenizer source.
var ErrFormat = errors.New("malformed tokenizer")

// maxVocab bounds vocabulary sizes (real ones are below 300k), so that a
// small hostile file cannot make the loader allocate much.
const maxVocab = 1 << 20

// source is what every loader extracts before building a Tokenizer. Ids are
// -1 when absent.
type source struct {
	kind   Kind
	pieces []string
	types  []TokenType // nil: all normal
	scores []float32   // nil: all zero
	merges []string    // "a b" entries, or pairs when mergePairs is set
	// mergePairs is used instead of merges when the source stores each merge
	// as two strings.
	mergePairs [][2]string

	split        Split
	ignoreMerges bool
	prefix       prefixMode
	unkPiece     string // when the unk id comes by name (tokenizer.json)
	unk          int
	fuseUnk      bool

	bos, eos, eot, eom, pad int
	addBOS                  bool
	chatTemplate            string
	warnings                []string
}

func newSource(kind Kind) *source {
	return &source{kind: kind, unk: -1, bos: -1, eos: -1, eot: -1, eom: -1, pad: -1}
}

func (s *source) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// build validates the source and assembles the Tokenizer.
func (s *source) build() (*Tokenizer, error) {
	n := len(s.pieces)
	if n == 0 {
		return nil, fmt.Errorf("%w: empty vocabulary", ErrFormat)
	}
	if n > maxVocab {
		return nil, fmt.Errorf("%w: vocabulary of %d tokens (limit %d)", ErrFormat, n, maxVocab)
	}
	if s.types != nil && len(s.types) != n {
		return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrFormat, len(s.types), n)
	}
	if s.scores != nil && len(s.scores) != n {
		return nil, fmt.Errorf("%w: %d scores for %d tokens", ErrFormat, len(s.scores), n)
	}
	t := &Tokenizer{
		kind:         s.kind,
		pieces:       s.pieces,
		types:        s.types,
		scores:       s.scores,
		split:        s.split,
		ignoreMerges: s.ignoreMerges,
		prefix:       s.prefix,
		fuseUnk:      s.fuseUnk,
		addBOS:       s.addBOS,
		chatTemplate: s.chatTemplate,
	}
	if t.kind != KindByteBPE {
		t.split = SplitNone
		t.ignoreMerges = false
	}
	if t.types == nil {
		t.types = make([]TokenType, n)
		for i := range t.types {
			t.types[i] = TypeNormal
		}
	}
	if t.scores == nil {
		t.scores = make([]float32, n)
	}
	t.vocab = make(map[string]int32, n)
	for id, p := range t.pieces {
		if p != "" {
			t.vocab[p] = int32(id) // the last of duplicates wins, as in llama.cpp
		}
	}
	if s.unkPiece != "" {
		if id, ok := t.vocab[s.unkPiece]; ok {
			s.unk = int(id)
		}
	}
	checkID := func(name string, id int) int {
		if id < -1 || id >= n {
			s.warnf("%s token id %d is outside the vocabulary of %d: ignored", name, id, n)
			return -1
		}
		return id
	}
	t.unk = int32(checkID("unknown", s.unk))
	t.bos = checkID("BOS", s.bos)
	t.eos = checkID("EOS", s.eos)
	t.eot = checkID("end-of-turn", s.eot)
	t.eom = checkID("end-of-message", s.eom)
	t.pad = checkID("padding", s.pad)
	if s.types == nil {
		// Without types, at least the declared special tokens are control.
		for _, id := range []int{t.bos, t.eos, t.eot, t.eom} {
			if id >= 0 {
				t.types[id] = TypeControl
			}
		}
	}
	for i := range t.types {
		if t.types[i] < TypeUndefined || t.types[i] > TypeByte {
			s.warnf("token %d has unknown type %d: treated as normal", i, t.types[i])
			t.types[i] = TypeNormal
		}
	}

	t.buildByteTokens()
	if err := t.buildMerges(s); err != nil {
		return nil, err
	}
	t.special = newSpecialMatcher(t.pieces, t.types)
	t.buildStops()
	t.warnings = s.warnings
	return t, nil
}

// buildByteTokens fills byteToken and, for byte-fallback vocabularies, marks
// <0xNN> pieces as byte tokens so they decode to their byte.
func (t *Tokenizer) buildByteTokens() {
	for b := 0; b < 256; b++ {
		t.byteToken[b] = -1
		var piece string
		if t.kind == KindByteBPE {
			piece = byteToUTF8[b]
		} else {
			piece = fmt.Sprintf("<0x%02X>", b)
		}
		if id, ok := t.vocab[piece]; ok {
			t.byteToken[b] = id
			if t.kind != KindByteBPE && (t.types[id] == TypeNormal || t.types[id] == TypeUndefined) {
				t.types[id] = TypeByte
			}
		}
	}
}

// buildMerges turns the merge list into the (left, right) -> (rank, result)
// table. Merges naming pieces that are not in the vocabulary are skipped
// with a warning: llama.cpp would let them produce text that no token
// covers, which then falls back to bytes anyway.
func (t *Tokenizer) buildMerges(s *source) error {
	count := len(s.merges) + len(s.mergePairs)
	if count == 0 {
		return nil
	}
	if count > 4*maxVocab {
		return fmt.Errorf("%w: %d merges (limit %d)", ErrFormat, count, 4*maxVocab)
	}
	t.mergeList = make([]mergeEntry, 0, count)
	var buf []byte
	skipped := 0
	firstSkipped := ""
	for rank := 0; rank < count; rank++ {
		var a, b, entry string
		var ok bool
		if rank < len(s.mergePairs) {
			a, b = s.mergePairs[rank][0], s.mergePairs[rank][1]
			ok = true
		} else {
			entry = s.merges[rank-len(s.mergePairs)]
			a, b, ok = t.splitMerge(entry, &buf)
		}
		var ia, ib, ir int32
		if ok {
			ia, ok = t.vocab[a]
		}
		if ok {
			ib, ok = t.vocab[b]
		}
		if ok {
			buf = append(append(buf[:0], a...), b...)
			ir, ok = t.vocab[string(buf)]
		}
		if !ok {
			if skipped == 0 {
				firstSkipped = entry
				if entry == "" {
					firstSkipped = a + " " + b
				}
			}
			skipped++
			continue
		}
		t.mergeList = append(t.mergeList, mergeEntry{left: ia, right: ib, rule: mergeRule{rank: int32(rank), id: ir}})
	}
	// Filled from the end, so that of duplicate merges the first one ranks,
	// as in llama.cpp, without a lookup per merge.
	t.merges = make(map[uint64]mergeRule, len(t.mergeList))
	for i := len(t.mergeList) - 1; i >= 0; i-- {
		m := &t.mergeList[i]
		t.merges[pairKey(m.left, m.right)] = m.rule
	}
	if skipped > 0 {
		s.warnf("%d of %d merges name pieces missing from the vocabulary and were skipped (first: %q)", skipped, count, firstSkipped)
	}
	return nil
}

// splitMerge splits a "left right" merge entry. Pieces may themselves hold
// spaces (the Llama 2 tokenizer.json has "▁  " = "▁ " + " "), so when the
// first space does not give two known pieces whose concatenation is known,
// every other space is tried.
func (t *Tokenizer) splitMerge(m string, buf *[]byte) (string, string, bool) {
	first := strings.IndexByte(m, ' ')
	if first < 0 {
		return "", "", false
	}
	if strings.IndexByte(m[first+1:], ' ') < 0 {
		return m[:first], m[first+1:], true
	}
	for i := first; i < len(m); i++ {
		if m[i] != ' ' || i == 0 || i == len(m)-1 {
			continue
		}
		a, b := m[:i], m[i+1:]
		_, okA := t.vocab[a]
		_, okB := t.vocab[b]
		if !okA || !okB {
			continue
		}
		*buf = append(append((*buf)[:0], a...), b...)
		if _, ok := t.vocab[string(*buf)]; ok {
			return a, b, true
		}
	}
	return m[:first], m[first+1:], true
}

// mergeEntry is one usable merge of the source, in rank order.
type mergeEntry struct {
	left, right int32
	rule        mergeRule
}

// stopPieces are the end markers of the chat formats bitnet knows.
var stopPieces = []string{"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>", "<|im_end|>", "<|endoftext|>", "</s>", "<end_of_turn>"}

func (t *Tokenizer) buildStops() {
	seen := map[int]bool{}
	add := func(id int) {
		if id >= 0 && !seen[id] {
			seen[id] = true
			t.stops = append(t.stops, id)
		}
	}
	add(t.eos)
	add(t.eot)
	add(t.eom)
	for _, p := range stopPieces {
		if id, ok := t.vocab[p]; ok {
			if ty := t.types[id]; ty == TypeControl || ty == TypeUserDefined {
				add(int(id))
			}
		}
	}
	if t.eot < 0 {
		for _, p := range []string{"<|eot_id|>", "<|im_end|>", "<end_of_turn>"} {
			if id, ok := t.vocab[p]; ok && t.types[id] == TypeControl {
				t.eot = int(id)
				break
			}
		}
	}
}
