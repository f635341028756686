package bitnet

import (
	"fmt"
	"math/rand/v2"
)

// Embedding maps token ids to rows of a learned table.
type Embedding struct {
	Vocab, Dim int
	Weight     *Param // [Vocab, Dim]

	ids []int
	y   []float32
}

// NewEmbedding returns a table of vocab rows of dim values drawn from the
// standard normal distribution (PyTorch's default; trainers that tie the
// table to the output projection usually scale it down).
func NewEmbedding(vocab, dim int, rng *rand.Rand) *Embedding {
	e := &Embedding{Vocab: vocab, Dim: dim, Weight: NewParam("weight", vocab, dim)}
	e.Weight.initNormal(rng, 1)
	return e
}

// Params returns the table.
func (e *Embedding) Params() []*Param { return []*Param{e.Weight} }

// Forward returns the rows of the given ids (len(ids)×Dim, owned by the
// layer). It panics on an id outside the vocabulary.
func (e *Embedding) Forward(ids []int) []float32 {
	e.ids = append(e.ids[:0], ids...)
	e.y = grow(e.y, len(ids)*e.Dim)
	for i, id := range ids {
		if id < 0 || id >= e.Vocab {
			panic(fmt.Sprintf("bitnet: token id %d outside the vocabulary of %d", id, e.Vocab))
		}
		copy(e.y[i*e.Dim:(i+1)*e.Dim], e.Weight.Data[id*e.Dim:(id+1)*e.Dim])
	}
	return e.y
}

// Backward adds the gradient of the last Forward's output to the rows it
// read.
func (e *Embedding) Backward(dy []float32) {
	if len(dy) != len(e.ids)*e.Dim {
		panic(fmt.Sprintf("bitnet: Embedding backward of %d values after a forward of %d ids", len(dy), len(e.ids)))
	}
	for i, id := range e.ids {
		g := e.Weight.Grad[id*e.Dim : (id+1)*e.Dim]
		for j, v := range dy[i*e.Dim : (i+1)*e.Dim] {
			g[j] += v
		}
	}
}
