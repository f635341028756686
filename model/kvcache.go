package model

import (
	"fmt"
	"math/bits"
)

// kvCache holds the keys and values of every layer for ctx positions, in
// float32 (an F16 cache moves logits measurably; see the testdata README).
// Its size is checked by New (sessionBytes) before any session allocates it.
type kvCache struct {
	ctx, dim int
	k, v     [][]float32 // per layer: ctx x dim
}

func newKVCache(layers, ctx, dim int) kvCache {
	c := kvCache{ctx: ctx, dim: dim, k: make([][]float32, layers), v: make([][]float32, layers)}
	for l := range c.k {
		c.k[l] = make([]float32, ctx*dim)
		c.v[l] = make([]float32, ctx*dim)
	}
	return c
}

// store writes n rows of keys and values for positions pos..pos+n-1.
func (c *kvCache) store(layer, pos, n int, k, v []float32) {
	copy(c.k[layer][pos*c.dim:(pos+n)*c.dim], k)
	copy(c.v[layer][pos*c.dim:(pos+n)*c.dim], v)
}

// layer returns the key and value rows of a layer.
func (c *kvCache) layer(l int) (k, v []float32) { return c.k[l], c.v[l] }

// bytes returns the cache's size in bytes.
func (c *kvCache) bytes() int64 { return int64(len(c.k)) * 2 * int64(c.ctx) * int64(c.dim) * 4 }

// sizer adds up byte counts with overflow detection: once a product or sum
// overflows uint64 the total stays marked as overflowed.
type sizer struct {
	total    uint64
	overflow bool
}

// add adds the product of factors (all >= 0) to the total.
func (s *sizer) add(factors ...int) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			s.overflow = true
			return
		}
		hi, lo := bits.Mul64(p, uint64(f))
		if hi != 0 {
			s.overflow = true
			return
		}
		p = lo
	}
	var carry uint64
	s.total, carry = bits.Add64(s.total, p, 0)
	if carry != 0 {
		s.overflow = true
	}
}

// sessionBytes returns the memory one Session of a model with configuration
// c and options o (defaults filled in) allocates: the KV cache, the token
// list, the attention scores of every thread, the RoPE angles and the
// scratch of a batch.
// kv is the KV cache's share. ok is false when the sizes overflow uint64.
func sessionBytes(c *Config, o Options) (total, kv uint64, ok bool) {
	var kvs sizer
	kvs.add(c.Layers, 2, o.ContextLength, c.KVDim(), 4)
	s := kvs
	b, qDim := o.BatchSize, c.Heads*c.HeadDim
	widest := max(c.Hidden, c.FFN, qDim)
	s.add(o.ContextLength, 8)            // tokens
	s.add(o.Threads, o.ContextLength, 4) // attention scores per worker
	s.add(b, c.Hidden, 4*2)              // x, proj
	s.add(b, max(c.Hidden, qDim), 4)     // xn
	s.add(b, qDim, 4*2)                  // q, att
	s.add(b, c.KVDim(), 4*2)             // k, v
	s.add(b, c.FFN, 4*2)                 // gate, up
	s.add(b, widest, 1)                  // int8 activations
	s.add(b, 3*4)                        // their scales and sums
	s.add(c.VocabSize, 4)                // logits
	s.add(256, c.RopeDims, 4)            // RoPE angles (kernels.RoPECache: at most 256 positions, grown on use)
	if o.Activations == ActQ8K {
		s.add(b, widest, 4) // Q8_K round trip
	}
	if s.overflow || kvs.overflow {
		return 0, 0, false
	}
	return s.total, kvs.total, true
}

// SessionMemoryError reports a context window whose session memory (KV cache
// and buffers) cannot be allocated: its size overflows, or it exceeds the
// memory the machine has available.
type SessionMemoryError struct {
	ContextLength int
	// Bytes is the memory one session needs (0 when Overflow) and KVBytes
	// the KV cache's share of it.
	Bytes, KVBytes uint64
	Overflow       bool
	// Available is the memory limit that was exceeded, read from the
	// operating system (Linux: MemAvailable in /proc/meminfo) or the
	// address-space bound maxSessionBytes.
	Available uint64
	Layers    int // the model's layers
	KVDim     int // float32 values per layer and position, for keys and for values
}

// Error describes the window, the bytes it needs and the limit, in one line.
func (e *SessionMemoryError) Error() string {
	if e.Overflow {
		return fmt.Sprintf("a %d-position context window needs more memory than can be counted (%d layers x 2 x %d float32 of KV cache per position); use a smaller context window",
			e.ContextLength, e.Layers, e.KVDim)
	}
	return fmt.Sprintf("a %d-position context window needs %s (%d bytes: KV cache %s, %d layers x 2 x %d float32 per position, plus buffers), more than the %s of memory available; use a smaller context window",
		e.ContextLength, humanBytes(int64(min(e.Bytes, 1<<62))), e.Bytes, humanBytes(int64(min(e.KVBytes, 1<<62))), e.Layers, e.KVDim, humanBytes(int64(min(e.Available, 1<<62))))
}

// maxSessionBytes bounds a session's memory whatever the operating system
// says: 64 TiB, beyond the address space Go's heap uses.
const maxSessionBytes = 1 << 46

// checkSessionMemory returns a *SessionMemoryError when a session of a model
// with configuration c and options o cannot be allocated sensibly.
func checkSessionMemory(c *Config, o Options) error {
	total, kv, ok := sessionBytes(c, o)
	e := &SessionMemoryError{ContextLength: o.ContextLength, Bytes: total, KVBytes: kv, Overflow: !ok, Layers: c.Layers, KVDim: c.KVDim()}
	if !ok {
		return e
	}
	limit := uint64(maxSessionBytes)
	if avail, known := availableMemory(); known {
		limit = min(limit, avail)
	}
	if total > limit {
		e.Available = limit
		return e
	}
	return nil
}

// SessionBytes returns the memory each Session of the model allocates: its KV
// cache (Layers x 2 x ContextLength x KVDim float32), token list, attention
// scores and batch buffers.
func (m *Model) SessionBytes() uint64 {
	total, _, _ := sessionBytes(&m.Config, m.opts)
	return total
}
