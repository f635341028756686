package tokenizer

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/sugarme/tokenizer/model/bpe"
)

// TrainOptions configure TrainByteBPE. Zero fields take the defaults given.
type TrainOptions struct {
	// VocabSize is the size of the whole vocabulary: the 256 byte tokens,
	// the learned merges and the special tokens. Default 1024. Training
	// may stop short of it when no pair is frequent enough.
	VocabSize int
	// MinFrequency is how often a pair must occur to be merged. Default 2.
	MinFrequency int
	// BOS and EOS name the beginning- and end-of-sequence tokens. Defaults
	// "<|begin_of_text|>" and "<|end_of_text|>", as in Llama 3.
	BOS, EOS string
	// SpecialTokens are further control tokens (such as "<|eot_id|>"),
	// placed after BOS and EOS at the end of the vocabulary.
	SpecialTokens []string
	// Split is the pre-tokenizer rule. Default SplitLlama3; SplitNone is
	// not allowed.
	Split Split
}

// maxTrainWords caps the distinct words handed to sugarme's trainer: with
// 10,000 or more it counts pairs in four goroutines, and all but the first
// skip their words (its loop tests the batch start instead of the position),
// so three quarters of the words would be ignored. The most frequent words
// are kept.
const maxTrainWords = 9999

// trainMu serializes training, which silences standard output (see
// TrainByteBPE).
var trainMu sync.Mutex

// TrainByteBPE learns a byte-level BPE vocabulary from texts with
// github.com/sugarme/tokenizer's BPE trainer and returns it as a Tokenizer:
// ids 0-255 are the bytes (id = byte value), then the merged tokens in the
// order they were learned, then BOS, EOS and the other special tokens as
// control tokens. The text is cut with the Llama 3 split (special tokens
// written in the text are cut out first and not learned from), and BOS is
// added by default. GGUFMetadata gives the vocabulary, merges and token
// types to store in a model file.
//
// sugarme's trainer prints progress to standard output; TrainByteBPE points
// os.Stdout at the null device while it runs, so other goroutines' writes
// to os.Stdout during training are lost. Its choice between equally frequent
// pairs follows Go map order, so two runs on the same text can learn
// different (equally valid) vocabularies.
func TrainByteBPE(texts []string, opts TrainOptions) (*Tokenizer, error) {
	if opts.VocabSize == 0 {
		opts.VocabSize = 1024
	}
	if opts.MinFrequency == 0 {
		opts.MinFrequency = 2
	}
	if opts.BOS == "" {
		opts.BOS = "<|begin_of_text|>"
	}
	if opts.EOS == "" {
		opts.EOS = "<|end_of_text|>"
	}
	if opts.Split == SplitNone {
		return nil, fmt.Errorf("train BPE: a byte-level vocabulary needs a split rule")
	}
	special := append([]string{opts.BOS, opts.EOS}, opts.SpecialTokens...)
	seen := map[string]bool{}
	for _, s := range special {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("train BPE: special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	learn := opts.VocabSize - len(special)
	if learn < 256 {
		return nil, fmt.Errorf("train BPE: vocabulary size %d leaves no room for 256 bytes and %d special tokens", opts.VocabSize, len(special))
	}

	counts := countWords(texts, special, opts.Split)
	trainer := bpe.NewBpeTrainer(opts.MinFrequency, learn)
	trainer.ShowProgress = false
	trainer.InitialAlphabet = bpe.CharSet{}
	for b := 0; b < 256; b++ {
		trainer.InitialAlphabet[byteToUTF8[b]] = struct{}{}
	}
	model, err := runSilently(func() (any, error) {
		m, _ := trainer.Train(counts)
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("train BPE: %w", err)
	}
	trained, ok := model.(bpe.BPE)
	if !ok {
		return nil, fmt.Errorf("train BPE: the trainer returned a %T", model)
	}

	s := newSource(KindByteBPE)
	s.split = opts.Split
	s.ignoreMerges = opts.Split == SplitLlama3
	s.addBOS = true
	s.pieces, s.merges = learnedVocabulary(trained, learn)
	s.types = make([]TokenType, len(s.pieces), len(s.pieces)+len(special))
	for i := range s.types {
		s.types[i] = TypeNormal
	}
	s.bos, s.eos = len(s.pieces), len(s.pieces)+1
	for _, sp := range special {
		s.pieces = append(s.pieces, sp)
		s.types = append(s.types, TypeControl)
	}
	return s.build()
}

// countWords splits the texts into words (byte-level spelled) and counts
// them, keeping the maxTrainWords most frequent.
func countWords(texts, special []string, split Split) map[string]int {
	types := make([]TokenType, len(special))
	for i := range types {
		types[i] = TypeControl
	}
	m := newSpecialMatcher(special, types)
	counts := map[string]int{}
	var frags []fragment
	var buf []byte
	for _, text := range texts {
		frags = m.split(text, true, frags[:0])
		for _, f := range frags {
			if f.id >= 0 {
				continue
			}
			for pos := 0; pos < len(f.text); {
				end := split.nextWord(f.text, pos)
				buf = appendByteLevel(buf[:0], f.text[pos:end])
				counts[string(buf)]++
				pos = end
			}
		}
	}
	if len(counts) <= maxTrainWords {
		return counts
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	kept := make(map[string]int, maxTrainWords)
	for _, w := range words[:maxTrainWords] {
		kept[w] = counts[w]
	}
	return kept
}

// learnedVocabulary turns the trained model into at most limit pieces
// (bytes in byte order, then merged tokens in learning order) and "a b"
// merges. The trainer can learn the same string twice under two ids, so
// each id's string is rebuilt by replaying the merges, and repeats are
// dropped.
func learnedVocabulary(m bpe.BPE, limit int) (pieces, merges []string) {
	str := map[int]string{}
	for id, p := range *m.VocabR {
		str[id] = p
	}
	type merge struct {
		pair bpe.Pair
		val  bpe.PairVal
	}
	list := make([]merge, 0, len(*m.Merges))
	for p, v := range *m.Merges {
		list = append(list, merge{p, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].val.Rank < list[j].val.Rank })

	pieces = make([]string, 256, 256+len(list))
	have := map[string]bool{}
	for b := 0; b < 256; b++ {
		pieces[b] = byteToUTF8[b]
		have[pieces[b]] = true
	}
	haveMerge := map[string]bool{}
	for _, mg := range list {
		a, okA := str[mg.pair.C1]
		b, okB := str[mg.pair.C2]
		if !okA || !okB {
			continue
		}
		str[mg.val.NewId] = a + b
		if !have[a+b] {
			if len(pieces) >= limit {
				continue
			}
			have[a+b] = true
			pieces = append(pieces, a+b)
		}
		if key := a + " " + b; !haveMerge[key] {
			haveMerge[key] = true
			merges = append(merges, key)
		}
	}
	return pieces, merges
}

// runSilently runs fn with os.Stdout pointed at the null device.
func runSilently(fn func() (any, error)) (any, error) {
	trainMu.Lock()
	defer trainMu.Unlock()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fn()
	}
	saved := os.Stdout
	os.Stdout = null
	defer func() {
		os.Stdout = saved
		null.Close()
	}()
	return fn()
}
