package model

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SamplerOptions choose the next token from logits. The zero value is greedy
// decoding (always the most likely token).
type SamplerOptions struct {
	// Temperature divides the logits; 0 means greedy (argmax).
	Temperature float32
	// TopK keeps only the K most likely tokens; 0 disables.
	TopK int
	// TopP keeps the smallest set of tokens whose probability reaches P;
	// 0 or 1 disables.
	TopP float32
	// MinP drops tokens less likely than MinP times the most likely one;
	// 0 disables.
	MinP float32
	// RepeatPenalty divides positive logits (multiplies negative ones) of
	// tokens seen in the last RepeatLastN tokens; 0 or 1 disables.
	RepeatPenalty float32
	// RepeatLastN is how many recent tokens the penalty looks at; 0 means 64.
	RepeatLastN int
	// Seed seeds the random generator, so a run can be repeated.
	Seed uint64
}

// DefaultRepeatLastN is the repetition window when RepeatLastN is 0.
const DefaultRepeatLastN = 64

// Validate reports options out of range.
func (o *SamplerOptions) Validate() error {
	switch {
	case !(o.Temperature >= 0) || math.IsInf(float64(o.Temperature), 0):
		return fmt.Errorf("temperature %v must be a finite number >= 0", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("top_k %d must be >= 0", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return fmt.Errorf("top_p %v must be in [0, 1]", o.TopP)
	case !(o.MinP >= 0 && o.MinP <= 1):
		return fmt.Errorf("min_p %v must be in [0, 1]", o.MinP)
	case !(o.RepeatPenalty >= 0) || math.IsInf(float64(o.RepeatPenalty), 0):
		return fmt.Errorf("repeat_penalty %v must be a finite number >= 0", o.RepeatPenalty)
	case o.RepeatLastN < 0:
		return fmt.Errorf("repeat_last_n %d must be >= 0", o.RepeatLastN)
	}
	return nil
}

// Sampler picks tokens according to SamplerOptions. It keeps its scratch
// space between calls, so sampling allocates nothing.
type Sampler struct {
	opts  SamplerOptions
	rng   *rand.Rand
	cand  []candidate
	seen  map[int]struct{}
	probs []float32
}

type candidate struct {
	id    int
	logit float32
}

// NewSampler returns a sampler for vocabularies of up to vocab tokens.
func NewSampler(opts SamplerOptions, vocab int) (*Sampler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.RepeatLastN == 0 {
		opts.RepeatLastN = DefaultRepeatLastN
	}
	return &Sampler{
		opts:  opts,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		cand:  make([]candidate, 0, vocab),
		seen:  make(map[int]struct{}, opts.RepeatLastN),
		probs: make([]float32, 0, vocab),
	}, nil
}

// Options returns the sampler's options.
func (s *Sampler) Options() SamplerOptions { return s.opts }

// Sample returns the next token for logits, given the tokens so far (for the
// repetition penalty). logits is not modified.
func (s *Sampler) Sample(logits []float32, history []int) int {
	o := &s.opts
	penalise := o.RepeatPenalty != 0 && o.RepeatPenalty != 1
	if penalise {
		clear(s.seen)
		for _, t := range history[max(0, len(history)-o.RepeatLastN):] {
			s.seen[t] = struct{}{}
		}
	}
	logit := func(id int) float32 {
		l := logits[id]
		if penalise {
			if _, ok := s.seen[id]; ok {
				if l > 0 {
					l /= o.RepeatPenalty
				} else {
					l *= o.RepeatPenalty
				}
			}
		}
		return l
	}

	if o.Temperature == 0 {
		best, bestLogit := 0, logit(0)
		for id := 1; id < len(logits); id++ {
			if l := logit(id); l > bestLogit || math.IsNaN(float64(bestLogit)) {
				best, bestLogit = id, l
			}
		}
		return best
	}

	cand := s.cand[:0]
	for id := range logits {
		if l := logit(id); !math.IsNaN(float64(l)) {
			cand = append(cand, candidate{id, l})
		}
	}
	if len(cand) == 0 {
		return 0
	}
	// The filters run in llama.cpp's order (top-k, top-p, min-p, then
	// temperature), so top-p and min-p see the untempered distribution.
	if o.TopK > 0 && o.TopK < len(cand) {
		selectTop(cand, o.TopK)
		cand = cand[:o.TopK]
	}
	slices.SortFunc(cand, func(a, b candidate) int { return cmp.Compare(b.logit, a.logit) })
	probs := s.probs[:len(cand)]
	softmaxCandidates(probs, cand, 1)
	if o.TopP > 0 && o.TopP < 1 {
		var acc float32
		for i, p := range probs {
			acc += p
			if acc >= o.TopP {
				cand, probs = cand[:i+1], probs[:i+1]
				break
			}
		}
	}
	if o.MinP > 0 {
		// probs are sorted, so the kept tokens form a prefix.
		n := 1
		for n < len(probs) && probs[n] >= o.MinP*probs[0] {
			n++
		}
		cand, probs = cand[:n], probs[:n]
	}
	softmaxCandidates(probs, cand, o.Temperature)
	r := s.rng.Float32()
	for i, p := range probs {
		r -= p
		if r < 0 {
			return cand[i].id
		}
	}
	return cand[len(cand)-1].id
}

// softmaxCandidates writes the probabilities of candidates sorted by
// decreasing logit at temperature temp into probs.
func softmaxCandidates(probs []float32, cand []candidate, temp float32) {
	var sum float64
	for i, c := range cand {
		p := math.Exp(float64((c.logit - cand[0].logit) / temp))
		probs[i] = float32(p)
		sum += p
	}
	inv := float32(1 / sum)
	for i := range probs {
		probs[i] *= inv
	}
}

// selectTop rearranges c so that its k largest logits come first (in no
// particular order), in expected linear time.
func selectTop(c []candidate, k int) {
	lo, hi := 0, len(c)-1
	for lo < hi {
		// Median-of-three pivot keeps sorted inputs linear.
		mid := lo + (hi-lo)/2
		if c[mid].logit > c[lo].logit {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if c[hi].logit > c[lo].logit {
			c[hi], c[lo] = c[lo], c[hi]
		}
		if c[mid].logit > c[hi].logit {
			c[mid], c[hi] = c[hi], c[mid]
		}
		pivot := c[hi].logit
		i := lo
		for j := lo; j < hi; j++ {
			if c[j].logit > pivot {
				c[i], c[j] = c[j], c[i]
				i++
			}
		}
		c[i], c[hi] = c[hi], c[i]
		switch {
		case i == k-1 || i == k:
			return
		case i < k:
			lo = i + 1
		default:
			hi = i - 1
		}
	}
}
