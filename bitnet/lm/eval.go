package lm

import (
	"context"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// Evaluation is the result of scoring held-out text.
type Evaluation struct {
	Chunks int     // chunks of context length scored
	Tokens int     // predictions scored
	Loss   float64 // mean negative log-likelihood per token, in nats
}

// Perplexity returns exp(Loss).
func (e Evaluation) Perplexity() float64 { return math.Exp(e.Loss) }

// Evaluate scores c as llama-perplexity (and `bitnet perplexity`) do: the
// stream is cut into consecutive chunks of ctx tokens (a shorter tail is
// dropped), each chunk's first token is replaced by BOS, and the predictions
// of the second half of each chunk (positions ctx/2 to ctx-2, each
// predicting the next token of the chunk) are scored. maxChunks > 0 scores
// only the first maxChunks chunks; batch chunks run per forward pass.
func (m *Model) Evaluate(ctx context.Context, p *kernels.Pool, c *Corpus, seq, maxChunks, batch int) (Evaluation, error) {
	if seq < 4 {
		return Evaluation{}, fmt.Errorf("evaluate: context %d is too short to score half of it", seq)
	}
	chunks := len(c.Tokens) / seq
	if maxChunks > 0 {
		chunks = min(chunks, maxChunks)
	}
	if chunks == 0 {
		return Evaluation{}, fmt.Errorf("evaluate: %d tokens do not fill one chunk of %d", len(c.Tokens), seq)
	}
	batch = max(1, min(batch, chunks))
	inputs, targets := make([]int, batch*seq), make([]int, batch*seq)
	first := seq / 2
	var sum float64
	var count int
	for lo := 0; lo < chunks; lo += batch {
		if err := ctx.Err(); err != nil {
			return Evaluation{}, err
		}
		n := min(batch, chunks-lo)
		for b := range n {
			in, tg := inputs[b*seq:(b+1)*seq], targets[b*seq:(b+1)*seq]
			start := (lo + b) * seq
			for j := range seq {
				in[j] = int(c.Tokens[start+j])
				tg[j] = bitnet.IgnoreTarget
				if j >= first && j < seq-1 {
					tg[j] = int(c.Tokens[start+j+1])
				}
			}
			if c.BOS >= 0 {
				in[0] = c.BOS
			}
		}
		logits := m.Forward(p, inputs[:n*seq], n, seq)
		scored := n * (seq - 1 - first)
		sum += bitnet.CrossEntropy(p, logits, logits, targets[:n*seq], m.Config.Vocab) * float64(scored)
		count += scored
	}
	return Evaluation{Chunks: chunks, Tokens: count, Loss: sum / float64(count)}, nil
}
