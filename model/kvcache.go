package model

// kvCache holds the keys and values of every layer for ctx positions, in
// float32 (an F16 cache moves logits measurably; see the testdata README).
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
