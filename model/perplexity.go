package model

import (
	"context"
	"fmt"
	"math"
)

// PerplexityOptions configure Model.Perplexity.
type PerplexityOptions struct {
	// Context is the chunk length (llama-perplexity's n_ctx), at least 4
	// and at most the session's KV cache (Options.ContextLength).
	Context int
	// Chunks limits the number of chunks scored; 0 scores every whole
	// chunk of the text.
	Chunks int
	// BOS, when >= 0, replaces the first token of every chunk, as
	// llama-perplexity does for vocabularies that add a BOS token; -1 keeps
	// the chunks as they are.
	BOS int
	// Progress, when set, receives the running result after each chunk.
	Progress func(PerplexityResult)
}

// PerplexityResult is the score of the chunks evaluated so far.
type PerplexityResult struct {
	Chunks      int // chunks scored
	TotalChunks int // chunks the evaluation covers
	Tokens      int // predictions scored
	// NLL is the mean negative log-likelihood per scored token, in nats;
	// NLL2 the mean of its square (for the error estimate).
	NLL, NLL2 float64
}

// PPL returns the perplexity exp(NLL).
func (r PerplexityResult) PPL() float64 { return math.Exp(r.NLL) }

// PPLError returns llama-perplexity's uncertainty of PPL: the standard error
// of the mean NLL, sqrt((mean(nll²) - mean(nll)²) / (n - 1)), times PPL.
func (r PerplexityResult) PPLError() float64 {
	v := r.NLL2 - r.NLL*r.NLL
	if r.Tokens < 2 || v <= 0 {
		return 0
	}
	return math.Sqrt(v/float64(r.Tokens-1)) * r.PPL()
}

// Perplexity scores tokens the way llama.cpp's llama-perplexity does: the
// text is cut into consecutive, non-overlapping chunks of Context tokens (a
// shorter tail is dropped), each chunk is evaluated from an empty KV cache
// with its first token replaced by BOS (when opts.BOS >= 0), and only the
// second half of each chunk is scored: the logits at positions Context/2
// to Context-2 predict the chunk's next tokens, Context-1-Context/2
// predictions per chunk, so that every scored token has at least half a
// window of context. The result is exp of the mean negative
// log-likelihood over all scored tokens (log-softmax in float64).
func (m *Model) Perplexity(ctx context.Context, tokens []int, opts PerplexityOptions) (PerplexityResult, error) {
	n := opts.Context
	if n < 4 || n > m.opts.ContextLength {
		return PerplexityResult{}, fmt.Errorf("perplexity: context %d is outside [4, %d] (the KV cache)", n, m.opts.ContextLength)
	}
	total := len(tokens) / n
	if opts.Chunks > 0 {
		total = min(total, opts.Chunks)
	}
	if total == 0 {
		return PerplexityResult{}, fmt.Errorf("perplexity: %d tokens do not fill one chunk of %d", len(tokens), n)
	}
	vocab := m.Config.VocabSize
	if opts.BOS >= vocab {
		return PerplexityResult{}, fmt.Errorf("perplexity: BOS id %d is outside the vocabulary (size %d)", opts.BOS, vocab)
	}
	for i, t := range tokens[:total*n] {
		if t < 0 || t >= vocab {
			return PerplexityResult{}, fmt.Errorf("perplexity: token %d (id %d) is outside the vocabulary (size %d)", i, t, vocab)
		}
	}
	first := n / 2
	s := m.NewSession()
	chunk := make([]int, n)
	// The scored half is evaluated one engine batch at a time, so only a
	// batch of logits rows is held (the vocabulary may be large).
	logits := make([]float32, m.opts.BatchSize*vocab)
	res := PerplexityResult{TotalChunks: total}
	var sum, sum2 float64
	for c := range total {
		copy(chunk, tokens[c*n:(c+1)*n])
		if opts.BOS >= 0 {
			chunk[0] = opts.BOS
		}
		s.Truncate(0)
		if err := s.Forward(ctx, chunk[:first], nil); err != nil {
			return res, err
		}
		for lo := first; lo < n-1; lo += m.opts.BatchSize {
			hi := min(lo+m.opts.BatchSize, n-1)
			if err := s.Forward(ctx, chunk[lo:hi], logits[:(hi-lo)*vocab]); err != nil {
				return res, err
			}
			for i := lo; i < hi; i++ {
				nll := negLogSoftmax(logits[(i-lo)*vocab:(i-lo+1)*vocab], chunk[i+1])
				sum += nll
				sum2 += nll * nll
			}
		}
		res.Chunks++
		res.Tokens += n - 1 - first
		res.NLL, res.NLL2 = sum/float64(res.Tokens), sum2/float64(res.Tokens)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	return res, nil
}

// negLogSoftmax returns -log softmax(logits)[target], summing in float64.
func negLogSoftmax(logits []float32, target int) float64 {
	mx := logits[0]
	for _, v := range logits[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	return math.Log(sum) - float64(logits[target]-mx)
}
