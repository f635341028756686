package bitnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// Gradient checks: every layer's analytic backward pass (float32) against
// central finite differences of a float64 reference of its forward pass. For
// the BitLinear layers the reference is the straight-through surrogate, the
// function whose exact gradient the STE computes:
//
//	y = (Norm(x) + cx)·(W + cw)ᵀ + b
//
// with the quantisation errors cx = x̂ - Norm(x) and cw = Ŵ - W frozen at the
// point of evaluation.

const (
	fdStep   = 1e-4 // central-difference step, in float64
	gradTol  = 1e-3 // relative tolerance of every gradient element
	floorRel = 1e-2 // elements below this fraction of the largest are compared against it
)

func randVec(rng *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
	return v
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// checkGradients compares analytic[i] with the finite-difference gradient of
// f with respect to vars[i], for every i.
func checkGradients(t *testing.T, name string, vars [][]float64, analytic [][]float32, f func([][]float64) float64) {
	t.Helper()
	for i, v := range vars {
		if len(analytic[i]) != len(v) {
			t.Fatalf("%s: variable %d has %d gradient values for %d values", name, i, len(analytic[i]), len(v))
		}
		numeric := make([]float64, len(v))
		largest := 0.0
		for j := range v {
			orig := v[j]
			v[j] = orig + fdStep
			plus := f(vars)
			v[j] = orig - fdStep
			minus := f(vars)
			v[j] = orig
			numeric[j] = (plus - minus) / (2 * fdStep)
			largest = math.Max(largest, math.Abs(numeric[j]))
		}
		if largest == 0 {
			t.Fatalf("%s: variable %d has an all-zero gradient; the check would prove nothing", name, i)
		}
		for j, n := range numeric {
			a := float64(analytic[i][j])
			denom := math.Max(math.Abs(n), floorRel*largest)
			if math.Abs(a-n) > gradTol*denom {
				t.Fatalf("%s: d/d var%d[%d]: analytic %.7g, numeric %.7g (relative error %.2g)", name, i, j, a, n, math.Abs(a-n)/denom)
			}
		}
	}
}

// weighted returns Σ r·y, the scalar whose gradient with respect to y is r.
func weighted(r []float32, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += float64(r[i]) * v
	}
	return s
}

func rmsNorm64(x, g []float64, dim int, eps float64) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < len(x)/dim; t++ {
		row := x[t*dim : (t+1)*dim]
		var ss float64
		for _, v := range row {
			ss += v * v
		}
		r := 1 / math.Sqrt(ss/float64(dim)+eps)
		for i, v := range row {
			y[t*dim+i] = v * r * g[i]
		}
	}
	return y
}

func layerNorm64(x []float64, dim int, eps float64) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < len(x)/dim; t++ {
		row := x[t*dim : (t+1)*dim]
		var mean, ss float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(dim)
		for _, v := range row {
			ss += (v - mean) * (v - mean)
		}
		r := 1 / math.Sqrt(ss/float64(dim)+eps)
		for i, v := range row {
			y[t*dim+i] = (v - mean) * r
		}
	}
	return y
}

// linear64 returns x·Wᵀ + b for rows of in values.
func linear64(x, w, b []float64, in, out int) []float64 {
	rows := len(x) / in
	y := make([]float64, rows*out)
	for t := range rows {
		for r := range out {
			var s float64
			for k := range in {
				s += x[t*in+k] * w[r*in+k]
			}
			if b != nil {
				s += b[r]
			}
			y[t*out+r] = s
		}
	}
	return y
}

type quantLayer interface {
	Forward(*kernels.Pool, []float32) []float32
	Backward(*kernels.Pool, []float32) []float32
	Params() []*Param
}

func TestBitLinearGradients(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	cases := []struct {
		ternary bool
		cfg     BitLinearConfig
	}{
		{false, DefaultBitLinearConfig()},
		{false, BitLinearConfig{BitWidth: 4, Method: PerGroup(2), InputNorm: NormRMS, UseBeforeNonlinear: true}},
		{false, BitLinearConfig{BitWidth: 8, Bias: true, InputNorm: NormNone}},
		{true, BitLinearConfig{BitWidth: 8, InputNorm: NormNone}},
		{true, BitLinearConfig{BitWidth: 8, Bias: true, InputNorm: NormRMS, Method: PerGroup(4)}},
		{true, BitLinearConfig{BitWidth: 3, Bias: true, InputNorm: NormLayer, UseBeforeNonlinear: true}},
	}
	const in, out, rows = 8, 6, 3
	for i, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		var layer quantLayer
		var core *quantLinear
		if c.ternary {
			l, err := NewBitLinear1_58(in, out, c.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			layer, core = l, l.l
		} else {
			l, err := NewBitLinear(in, out, c.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			layer, core = l, l.l
		}
		if g := core.normGain(); g != nil {
			copy(g.Data, randVec(rng, in, 1)) // a gain other than 1 exercises its gradient
		}
		name := fmt.Sprintf("%s %+v", core.kind.layerName(), core.cfg)
		x := randVec(rng, rows*in, 1)
		y := layer.Forward(pool, x)

		// The frozen quantisation of this evaluation point.
		xHat := make([]float32, rows*in)
		core.xq.Dequantize(nil, xHat)
		wHat := make([]float32, in*out)
		core.wq.Dequantize(nil, wHat)
		normed := func(x64 []float64, gain []float64) []float64 {
			switch core.cfg.InputNorm {
			case NormLayer:
				return layerNorm64(x64, in, core.cfg.Eps)
			case NormRMS:
				return rmsNorm64(x64, gain, in, core.cfg.Eps)
			}
			return x64
		}
		var gain64 []float64
		if g := core.normGain(); g != nil {
			gain64 = to64(g.Data)
		}
		n0 := normed(to64(x), gain64)
		cx, cw := make([]float64, len(n0)), make([]float64, len(wHat))
		for i := range cx {
			cx[i] = float64(xHat[i]) - n0[i]
		}
		for i := range cw {
			cw[i] = float64(wHat[i]) - float64(core.weight.Data[i])
		}
		surrogate := func(vars [][]float64) []float64 {
			var gain []float64
			if gain64 != nil {
				gain = vars[len(vars)-1]
			}
			n := normed(vars[0], gain)
			w := vars[1]
			xs, ws := make([]float64, len(n)), make([]float64, len(w))
			for i := range n {
				xs[i] = n[i] + cx[i]
			}
			for i := range w {
				ws[i] = w[i] + cw[i]
			}
			var b []float64
			if core.bias != nil {
				b = vars[2]
			}
			return linear64(xs, ws, b, in, out)
		}

		vars := [][]float64{to64(x)}
		for _, p := range layer.Params() {
			vars = append(vars, to64(p.Data))
		}
		// The layer's output is the surrogate's value at the evaluation point.
		for i, v := range surrogate(vars) {
			if math.Abs(float64(y[i])-v) > 1e-5*math.Max(1, math.Abs(v)) {
				t.Fatalf("%s: forward[%d] = %v, surrogate %v", name, i, y[i], v)
			}
		}

		r := randVec(rng, rows*out, 1)
		dx := layer.Backward(pool, r)
		analytic := [][]float32{dx}
		for _, p := range layer.Params() {
			analytic = append(analytic, p.Grad)
		}
		checkGradients(t, name, vars, analytic, func(v [][]float64) float64 { return weighted(r, surrogate(v)) })
	}
}

func TestLinearGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, bias := range []bool{false, true} {
		l := NewLinear(7, 5, bias, rng)
		x := randVec(rng, 4*7, 1)
		l.Forward(nil, x)
		r := randVec(rng, 4*5, 1)
		dx := l.Backward(nil, r)
		vars, analytic := [][]float64{to64(x)}, [][]float32{dx}
		for _, p := range l.Params() {
			vars, analytic = append(vars, to64(p.Data)), append(analytic, p.Grad)
		}
		checkGradients(t, "Linear", vars, analytic, func(v [][]float64) float64 {
			var b []float64
			if bias {
				b = v[2]
			}
			return weighted(r, linear64(v[0], v[1], b, 7, 5))
		})
	}
}

func TestNormGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const dim, rows = 9, 4
	x := randVec(rng, rows*dim, 2)
	r := randVec(rng, rows*dim, 1)

	rms := NewRMSNorm(dim, 1e-5)
	copy(rms.Weight.Data, randVec(rng, dim, 1))
	rms.Forward(nil, x)
	dx := rms.Backward(nil, r)
	checkGradients(t, "RMSNorm", [][]float64{to64(x), to64(rms.Weight.Data)}, [][]float32{dx, rms.Weight.Grad},
		func(v [][]float64) float64 { return weighted(r, rmsNorm64(v[0], v[1], dim, 1e-5)) })

	ln := NewLayerNorm(dim, 1e-5)
	ln.Forward(nil, x)
	dx = ln.Backward(nil, r)
	checkGradients(t, "LayerNorm", [][]float64{to64(x)}, [][]float32{dx},
		func(v [][]float64) float64 { return weighted(r, layerNorm64(v[0], dim, 1e-5)) })
}

func TestEmbeddingGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	e := NewEmbedding(6, 3, rng)
	ids := []int{4, 1, 4, 0} // a repeated id sums its gradients
	e.Forward(ids)
	r := randVec(rng, len(ids)*3, 1)
	e.Backward(r)
	checkGradients(t, "Embedding", [][]float64{to64(e.Weight.Data)}, [][]float32{e.Weight.Grad}, func(v [][]float64) float64 {
		y := make([]float64, 0, len(ids)*3)
		for _, id := range ids {
			y = append(y, v[0][id*3:(id+1)*3]...)
		}
		return weighted(r, y)
	})
}

// rope64 is the NEOX rotation in float64.
func rope64(x []float64, pos []int, headDim int, theta float64) []float64 {
	y := append([]float64(nil), x...)
	width := len(x) / len(pos)
	half := headDim / 2
	for t, p := range pos {
		for h := 0; h < width; h += headDim {
			for i := range half {
				ang := float64(p) * math.Pow(theta, -2*float64(i)/float64(headDim))
				a, b := x[t*width+h+i], x[t*width+h+i+half]
				y[t*width+h+i] = a*math.Cos(ang) - b*math.Sin(ang)
				y[t*width+h+i+half] = a*math.Sin(ang) + b*math.Cos(ang)
			}
		}
	}
	return y
}

func TestRoPEGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	rope := NewRoPE(8, 10000)
	pos := []int{0, 3, 17, 250}
	x := randVec(rng, len(pos)*16, 1)
	rotated := append([]float32(nil), x...)
	rope.Rotate(nil, rotated, pos)
	for i, v := range rope64(to64(x), pos, 8, 10000) {
		if math.Abs(float64(rotated[i])-v) > 1e-5 {
			t.Fatalf("rotated[%d] = %v, want %v", i, rotated[i], v)
		}
	}
	r := randVec(rng, len(x), 1)
	dx := append([]float32(nil), r...)
	rope.Unrotate(nil, dx, pos)
	checkGradients(t, "RoPE", [][]float64{to64(x)}, [][]float32{dx},
		func(v [][]float64) float64 { return weighted(r, rope64(v[0], pos, 8, 10000)) })
}

// attention64 is causal grouped-query attention in float64.
func attention64(q, k, v []float64, batch, seq, heads, kvHeads, hd int) []float64 {
	qDim, kvDim := heads*hd, kvHeads*hd
	out := make([]float64, len(q))
	scores := make([]float64, seq)
	for b := range batch {
		for h := range heads {
			g := h / (heads / kvHeads)
			for i := range seq {
				qi := q[(b*seq+i)*qDim+h*hd:][:hd]
				m := math.Inf(-1)
				for j := 0; j <= i; j++ {
					kj := k[(b*seq+j)*kvDim+g*hd:][:hd]
					var s float64
					for d := range hd {
						s += qi[d] * kj[d]
					}
					scores[j] = s / math.Sqrt(float64(hd))
					m = math.Max(m, scores[j])
				}
				var sum float64
				for j := 0; j <= i; j++ {
					scores[j] = math.Exp(scores[j] - m)
					sum += scores[j]
				}
				o := out[(b*seq+i)*qDim+h*hd:][:hd]
				for j := 0; j <= i; j++ {
					vj := v[(b*seq+j)*kvDim+g*hd:][:hd]
					for d := range hd {
						o[d] += scores[j] / sum * vj[d]
					}
				}
			}
		}
	}
	return out
}

func TestAttentionGradients(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, c := range []struct{ batch, seq, heads, kvHeads, hd int }{
		{2, 5, 4, 2, 4},
		{1, 70, 2, 1, 6}, // longer than one score block
		{3, 3, 3, 3, 2},
	} {
		rng := rand.New(rand.NewPCG(uint64(c.seq), 6))
		a, err := NewAttention(c.heads, c.kvHeads, c.hd)
		if err != nil {
			t.Fatal(err)
		}
		n := c.batch * c.seq
		q, k, v := randVec(rng, n*c.heads*c.hd, 1), randVec(rng, n*c.kvHeads*c.hd, 1), randVec(rng, n*c.kvHeads*c.hd, 1)
		out := a.Forward(pool, q, k, v, c.batch, c.seq)
		for i, w := range attention64(to64(q), to64(k), to64(v), c.batch, c.seq, c.heads, c.kvHeads, c.hd) {
			if math.Abs(float64(out[i])-w) > 1e-5 {
				t.Fatalf("%+v: out[%d] = %v, want %v", c, i, out[i], w)
			}
		}
		r := randVec(rng, len(out), 1)
		dq, dk, dv := a.Backward(pool, r)
		name := fmt.Sprintf("attention %+v", c)
		if c.seq > 10 { // finite differences over every value would be slow; q, k and v share the code
			checkGradients(t, name, [][]float64{to64(k)}, [][]float32{dk}, func(vars [][]float64) float64 {
				return weighted(r, attention64(to64(q), vars[0], to64(v), c.batch, c.seq, c.heads, c.kvHeads, c.hd))
			})
			continue
		}
		checkGradients(t, name, [][]float64{to64(q), to64(k), to64(v)}, [][]float32{dq, dk, dv}, func(vars [][]float64) float64 {
			return weighted(r, attention64(vars[0], vars[1], vars[2], c.batch, c.seq, c.heads, c.kvHeads, c.hd))
		})
	}
}

func act64(a Activation, x float64) float64 {
	if a == ReLU2 {
		return math.Pow(math.Max(x, 0), 2)
	}
	return x / (1 + math.Exp(-x))
}

func TestActivationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, fn := range []Activation{SiLU, ReLU2} {
		x := randVec(rng, 50, 2)
		r := randVec(rng, 50, 1)
		act := &Act{Fn: fn}
		y := act.Forward(nil, x)
		for i, v := range x {
			if want := act64(fn, float64(v)); math.Abs(float64(y[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("%v(%v) = %v, want %v", fn, v, y[i], want)
			}
		}
		dx := act.Backward(nil, r)
		checkGradients(t, fn.String(), [][]float64{to64(x)}, [][]float32{dx}, func(v [][]float64) float64 {
			y := make([]float64, len(v[0]))
			for i, x := range v[0] {
				y[i] = act64(fn, x)
			}
			return weighted(r, y)
		})

		up := randVec(rng, 50, 1)
		glu := &GLU{Fn: fn}
		glu.Forward(nil, x, up)
		dgate, dup := glu.Backward(nil, r)
		checkGradients(t, "GLU "+fn.String(), [][]float64{to64(x), to64(up)}, [][]float32{dgate, dup}, func(v [][]float64) float64 {
			y := make([]float64, len(v[0]))
			for i, g := range v[0] {
				y[i] = act64(fn, g) * v[1][i]
			}
			return weighted(r, y)
		})
	}
}

func TestCrossEntropyGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const vocab = 7
	targets := []int{3, IgnoreTarget, 0, 6}
	logits := randVec(rng, len(targets)*vocab, 3)
	grad := make([]float32, len(logits))
	ce64 := func(v [][]float64) float64 {
		var total float64
		n := 0
		for t, target := range targets {
			if target == IgnoreTarget {
				continue
			}
			row := v[0][t*vocab : (t+1)*vocab]
			var sum float64
			for _, x := range row {
				sum += math.Exp(x)
			}
			total += math.Log(sum) - row[target]
			n++
		}
		return total / float64(n)
	}
	loss := CrossEntropy(nil, grad, logits, targets, vocab)
	if want := ce64([][]float64{to64(logits)}); math.Abs(loss-want) > 1e-6 {
		t.Fatalf("loss %v, want %v", loss, want)
	}
	for _, g := range grad[vocab : 2*vocab] {
		if g != 0 {
			t.Fatalf("ignored row has gradient %v", grad[vocab:2*vocab])
		}
	}
	checkGradients(t, "CrossEntropy", [][]float64{to64(logits)}, [][]float32{grad}, ce64)

	// In place: the gradient may overwrite the logits.
	inPlace := append([]float32(nil), logits...)
	if l := CrossEntropy(nil, inPlace, inPlace, targets, vocab); l != loss {
		t.Fatalf("in-place loss %v, want %v", l, loss)
	}
	for i := range grad {
		if inPlace[i] != grad[i] {
			t.Fatalf("in-place gradient differs at %d", i)
		}
	}
}
