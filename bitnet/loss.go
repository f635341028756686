package bitnet

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// IgnoreTarget marks a row whose loss CrossEntropy skips (padding).
const IgnoreTarget = -1

// CrossEntropy returns the mean over rows of -log softmax(logits row)[target]
// and writes its gradient with respect to the logits into dlogits, which may
// be logits itself: (softmax - onehot(target)) / counted rows. logits holds
// len(targets) rows of vocab values. Rows whose target is IgnoreTarget count
// for nothing and get a zero gradient. Sums are taken in float64.
func CrossEntropy(p *kernels.Pool, dlogits, logits []float32, targets []int, vocab int) float64 {
	if vocab <= 0 || len(logits) != len(targets)*vocab || len(dlogits) != len(logits) {
		panic(fmt.Sprintf("bitnet: cross-entropy of %d logits, %d gradients, %d targets, vocabulary %d",
			len(logits), len(dlogits), len(targets), vocab))
	}
	counted := 0
	for _, t := range targets {
		switch {
		case t == IgnoreTarget:
		case t < 0 || t >= vocab:
			panic(fmt.Sprintf("bitnet: cross-entropy target %d outside the vocabulary of %d", t, vocab))
		default:
			counted++
		}
	}
	if counted == 0 {
		clear(dlogits)
		return 0
	}
	losses := make([]float64, len(targets))
	inv := 1 / float64(counted)
	parallelFor(p, len(targets), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			row, grad := logits[t*vocab:(t+1)*vocab], dlogits[t*vocab:(t+1)*vocab]
			if targets[t] == IgnoreTarget {
				clear(grad)
				continue
			}
			m := row[0]
			for _, v := range row[1:] {
				m = max(m, v)
			}
			target := float64(row[targets[t]])
			// One exponential per logit, kept in grad (which may be row:
			// each value is read before it is overwritten).
			var sum float64
			for i, v := range row {
				e := math.Exp(float64(v - m))
				grad[i] = float32(e)
				sum += e
			}
			losses[t] = math.Log(sum) + float64(m) - target
			scale := float32(inv / sum)
			for i := range grad {
				grad[i] *= scale
			}
			grad[targets[t]] -= float32(inv)
		}
	})
	var total float64
	for _, l := range losses {
		total += l
	}
	return total * inv
}
