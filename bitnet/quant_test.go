package bitnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// These tests compute the papers' formulas by hand on small inputs. The
// comments show the arithmetic.

func equalValues(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if float64(got[i]) != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func closeValues(t *testing.T, what string, got []float32, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > rel*math.Max(math.Abs(want[i]), 1e-3) {
			t.Fatalf("%s = %v, want %v (relative tolerance %g)", what, got, want, rel)
		}
	}
}

func mustBitLinear(t *testing.T, in, out int, cfg BitLinearConfig, w, b []float32) *BitLinear {
	t.Helper()
	l, err := NewBitLinearFrom(in, out, cfg, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustBitLinear158(t *testing.T, in, out int, cfg BitLinearConfig, w, b []float32) *BitLinear1_58 {
	t.Helper()
	l, err := NewBitLinear1_58From(in, out, cfg, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func plainConfig(bits int) BitLinearConfig {
	return BitLinearConfig{BitWidth: bits, Eps: 1e-5, Method: PerTensor(), InputNorm: NormNone}
}

func TestBinarizeWeights(t *testing.T) {
	w := []float32{-0.1, 1.9, 0.0, 0.5}
	// Per tensor: α = (-0.1+1.9+0+0.5)/4 = 0.575, β = (0.1+1.9+0+0.5)/4 = 0.625,
	// W-α = [-0.675, 1.325, -0.575, -0.075] -> signs [-1, 1, -1, -1].
	q := mustBitLinear(t, 2, 2, plainConfig(8), w, nil).QuantizeWeights(nil)
	equalValues(t, "codes", q.Codes, []float64{-1, 1, -1, -1})
	closeValues(t, "α", q.Mean, []float64{0.575}, 1e-7)
	closeValues(t, "β", q.Scale, []float64{0.625}, 1e-7)

	// Two groups of columns: {-0.1, 0.0}: α = -0.05, β = 0.05 -> [-1, +1];
	// {1.9, 0.5}: α = 1.2, β = 1.2 -> [+1, -1].
	cfg := plainConfig(8)
	cfg.Method = PerGroup(2)
	q = mustBitLinear(t, 2, 2, cfg, w, nil).QuantizeWeights(nil)
	equalValues(t, "group codes", q.Codes, []float64{-1, 1, 1, -1})
	closeValues(t, "group α", q.Mean, []float64{-0.05, 1.2}, 1e-6)
	closeValues(t, "group β", q.Scale, []float64{0.05, 1.2}, 1e-6)

	// Sign(0) = -1: weights equal to their mean binarise to -1.
	q = mustBitLinear(t, 2, 2, plainConfig(8), []float32{1, -1, 0, 0}, nil).QuantizeWeights(nil)
	equalValues(t, "codes at the mean", q.Codes, []float64{1, -1, -1, -1})
}

func TestTernarizeWeights(t *testing.T) {
	w := []float32{-0.1, 1.9, 0.0, 0.5}
	// γ = 0.625; W/γ = [-0.16, 3.04, 0, 0.8] -> round, clip: [0, 1, 0, 1].
	q := mustBitLinear158(t, 2, 2, plainConfig(8), w, nil).QuantizeWeights(nil)
	equalValues(t, "codes", q.Codes, []float64{0, 1, 0, 1})
	closeValues(t, "γ", q.Scale, []float64{0.625}, 1e-7)

	// Two groups: {-0.1, 0.0}: γ = 0.05 -> [-2 -> -1, 0]; {1.9, 0.5}: γ = 1.2
	// -> [1.58 -> 1, 0.42 -> 0].
	cfg := plainConfig(8)
	cfg.Method = PerGroup(2)
	q = mustBitLinear158(t, 2, 2, cfg, w, nil).QuantizeWeights(nil)
	equalValues(t, "group codes", q.Codes, []float64{-1, 1, 0, 0})
	closeValues(t, "group γ", q.Scale, []float64{0.05, 1.2}, 1e-6)

	// Rounding is half to even: γ = 1, W/γ = [0.5, -0.5, 1.5, 2] -> [0, 0, 1, 1].
	q = mustBitLinear158(t, 2, 2, plainConfig(8), []float32{0.5, -0.5, 1.5, 2}, nil).QuantizeWeights(nil)
	equalValues(t, "codes at ties", q.Codes, []float64{0, 0, 1, 1})

	// Eps clamps γ: mean|W| = 1.5e-7 < 1e-5, so γ = 1e-5 and every code is 0;
	// with Eps 1e-7, γ = 1.5e-7 and W/γ = [0.67, -2, 0, 1.33] -> [1, -1, 0, 1].
	tiny := []float32{1e-7, -3e-7, 0, 2e-7}
	q = mustBitLinear158(t, 2, 2, plainConfig(8), tiny, nil).QuantizeWeights(nil)
	equalValues(t, "codes of tiny weights", q.Codes, []float64{0, 0, 0, 0})
	closeValues(t, "clamped γ", q.Scale, []float64{1e-5}, 1e-7)
	cfg = plainConfig(8)
	cfg.Eps = 1e-7
	q = mustBitLinear158(t, 2, 2, cfg, tiny, nil).QuantizeWeights(nil)
	equalValues(t, "codes with a small eps", q.Codes, []float64{1, -1, 0, 1})
}

func TestBitLinearActivations(t *testing.T) {
	x := []float32{0.5, -1, 0.25, 0.1}
	cases := []struct {
		bits  int
		q     []float64
		scale float64
	}{
		// γ = 1, x·Qb/γ with Qb = 128: [64, -128, 32, 12.8 -> 13].
		{8, []float64{64, -128, 32, 13}, 128},
		// Qb = 8: [4, -8, 2, 0.8 -> 1].
		{4, []float64{4, -8, 2, 1}, 8},
		// Qb = 2: [1, -2, 0.5 -> 0 (half to even), 0.2 -> 0].
		{2, []float64{1, -2, 0, 0}, 2},
	}
	for _, c := range cases {
		a := mustBitLinear(t, 4, 1, plainConfig(c.bits), make([]float32, 4), nil).QuantizeActivations(nil, x)
		equalValues(t, "q", a.Q, c.q)
		equalValues(t, "scale", a.Scale, []float64{c.scale})
		equalValues(t, "shift", a.Shift, []float64{0})
	}

	// The paper clips x·Qb/γ to Qb-ε; the nearest 8-bit integer is 127.
	a := mustBitLinear(t, 2, 1, plainConfig(8), make([]float32, 2), nil).QuantizeActivations(nil, []float32{1, -0.5})
	equalValues(t, "q at +γ", a.Q, []float64{127, -64})

	// Eps: γ = max(2e-7, 1e-5) = 1e-5, x·128/γ = [1.28, -2.56] -> [1, -3];
	// with Eps 1e-3 the same values round to zero.
	tiny := []float32{1e-7, -2e-7}
	a = mustBitLinear(t, 2, 1, plainConfig(8), make([]float32, 2), nil).QuantizeActivations(nil, tiny)
	equalValues(t, "q of tiny activations", a.Q, []float64{1, -3})
	cfg := plainConfig(8)
	cfg.Eps = 1e-3
	a = mustBitLinear(t, 2, 1, cfg, make([]float32, 2), nil).QuantizeActivations(nil, tiny)
	equalValues(t, "q with a large eps", a.Q, []float64{0, 0})

	// Before a non-linearity: x - η scaled by Qb/γ into [0, Qb-1].
	// x = [0.2, 0.3, 0.4, 0.6]: η = 0.2, γ = 0.6, (x-η)·128/0.6 = [0, 21.3, 42.7, 85.3].
	cfg = plainConfig(8)
	cfg.UseBeforeNonlinear = true
	a = mustBitLinear(t, 4, 1, cfg, make([]float32, 4), nil).QuantizeActivations(nil, []float32{0.2, 0.3, 0.4, 0.6})
	equalValues(t, "shifted q", a.Q, []float64{0, 21, 43, 85})
	closeValues(t, "shift", a.Shift, []float64{0.2}, 1e-7)
	// x = [-1, 0, 1]: η = -1, γ = 1: (x+1)·128 = [0, 128, 256] -> [0, 127, 127].
	a = mustBitLinear(t, 3, 1, cfg, make([]float32, 3), nil).QuantizeActivations(nil, []float32{-1, 0, 1})
	equalValues(t, "shifted q clipped at Qb-ε", a.Q, []float64{0, 127, 127})

	// Groups: [1, -0.5 | 0.1, 0.2]: γ = 1 -> [127, -64]; γ = 0.2, s = 640 -> [64, 127].
	cfg = plainConfig(8)
	cfg.Method = PerGroup(2)
	a = mustBitLinear(t, 4, 1, cfg, make([]float32, 4), nil).QuantizeActivations(nil, []float32{1, -0.5, 0.1, 0.2})
	equalValues(t, "group q", a.Q, []float64{127, -64, 64, 127})
	closeValues(t, "group scales", a.Scale, []float64{128, 640}, 1e-6)

	// Each row (token) has its own scale.
	a = mustBitLinear(t, 2, 1, plainConfig(8), make([]float32, 2), nil).QuantizeActivations(nil, []float32{0.5, 0.25, -2, 1})
	equalValues(t, "per-token q", a.Q, []float64{127, 64, -128, 64})
	equalValues(t, "per-token scales", a.Scale, []float64{256, 64})
}

func TestBitLinear1_58Activations(t *testing.T) {
	x := []float32{0.5, -1, 0.25, 0.1}
	// s = (Qb-1)/γ. 8 bits: x·127 = [63.5 -> 64 (half to even), -127, 31.75 -> 32, 12.7 -> 13].
	// 4 bits: x·7 = [3.5 -> 4, -7, 1.75 -> 2, 0.7 -> 1]. 2 bits: x·1 = [0.5 -> 0, -1, 0, 0].
	for bits, want := range map[int][]float64{8: {64, -127, 32, 13}, 4: {4, -7, 2, 1}, 2: {0, -1, 0, 0}} {
		a := mustBitLinear158(t, 4, 1, plainConfig(bits), make([]float32, 4), nil).QuantizeActivations(nil, x)
		equalValues(t, "q", a.Q, want)
		equalValues(t, "scale", a.Scale, []float64{float64(int(1)<<(bits-1) - 1)})
	}
}

// At 8 bits BitLinear1_58 quantises activations exactly as the engine does.
func TestBitLinear1_58ActivationsMatchKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	rows, cols := 7, 300
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()))
	}
	clear(x[cols : 2*cols]) // an all-zero row exercises the eps clamp
	a := mustBitLinear158(t, cols, 1, plainConfig(8), make([]float32, cols), nil).QuantizeActivations(nil, x)
	var ref kernels.QuantizedRows
	kernels.QuantizeRowsI8(&ref, x, rows, cols)
	for i, q := range ref.Q {
		if a.Q[i] != float32(q) {
			t.Fatalf("q[%d] = %v, kernels %v", i, a.Q[i], q)
		}
	}
	for i, s := range ref.Scale {
		if a.Scale[i] != s {
			t.Fatalf("scale[%d] = %v, kernels %v", i, a.Scale[i], s)
		}
	}
}

func TestBitLinearOutput(t *testing.T) {
	w := []float32{-0.1, 1.9, 0.0, 0.5, 0.3, -0.2, 0.8, -0.4}
	// α = 2.8/8 = 0.35, β = 4.2/8 = 0.525; codes [-1 1 -1 1; -1 -1 1 -1].
	x := []float32{0.5, -1, 0.25, 0.1}
	beta := 0.525
	cases := []struct {
		name string
		cfg  func(*BitLinearConfig)
		x    []float32
		bias []float32
		want []float64
	}{
		// q = [64, -128, 32, 13], s = 128: dots [-211, 83], y = dot·β/128.
		{"8 bits", func(*BitLinearConfig) {}, x, nil, []float64{-211 * beta / 128, 83 * beta / 128}},
		{"8 bits with bias", func(c *BitLinearConfig) { c.Bias = true }, x, []float32{0.1, -0.2},
			[]float64{-211*beta/128 + 0.1, 83*beta/128 - 0.2}},
		// q = [4, -8, 2, 1], s = 8: dots [-13, 5].
		{"4 bits", func(c *BitLinearConfig) { c.BitWidth = 4 }, x, nil, []float64{-13 * beta / 8, 5 * beta / 8}},
		// x = [0.2, 0.3, 0.4, 0.6]: η = 0.2, s = 128/0.6, q = [0, 21, 43, 85]:
		// dots [63, -63]; the shift adds β·η·Σcodes = [0, 0.525·0.2·(-2)].
		{"before non-linearity", func(c *BitLinearConfig) { c.UseBeforeNonlinear = true }, []float32{0.2, 0.3, 0.4, 0.6}, nil,
			[]float64{63 * beta * 0.6 / 128, -63*beta*0.6/128 - 2*beta*0.2}},
		// x = [1, 2, 3, 4] through LN: [-1.5, -0.5, 0.5, 1.5]/sqrt(1.25+ε),
		// γ = 1.5/sqrt(1.25+ε), q = [-128, -43, 43, 127]: dots [169, 87].
		{"layer norm", func(c *BitLinearConfig) { c.InputNorm = NormLayer }, []float32{1, 2, 3, 4}, nil,
			[]float64{169 * beta * (1.5 / math.Sqrt(1.25+1e-5)) / 128, 87 * beta * (1.5 / math.Sqrt(1.25+1e-5)) / 128}},
	}
	for _, c := range cases {
		cfg := plainConfig(8)
		c.cfg(&cfg)
		y := mustBitLinear(t, 4, 2, cfg, w, c.bias).Forward(nil, c.x)
		closeValues(t, c.name, y, c.want, 1e-6)
	}

	// Groups {0,1} and {2,3}. Weights: α = [0.475, 0.175], β = [0.625, 0.425];
	// codes [-1 1 -1 1; -1 -1 1 -1]. x = [1, -0.5 | 0.1, 0.2]: q = [127, -64 | 64, 127],
	// s = [128, 640]. Row 0: -191·0.625/128 + 63·0.425/640; row 1: -63·0.625/128 - 63·0.425/640.
	cfg := plainConfig(8)
	cfg.Method = PerGroup(2)
	y := mustBitLinear(t, 4, 2, cfg, w, nil).Forward(nil, []float32{1, -0.5, 0.1, 0.2})
	closeValues(t, "groups", y, []float64{-191*0.625/128 + 63*0.425/640, -63*0.625/128 - 63*0.425/640}, 1e-6)
}

func TestBitLinear1_58Output(t *testing.T) {
	w := []float32{-0.1, 1.9, 0.0, 0.5, 0.3, -0.2, 0.8, -0.4}
	// γ = 0.525; W/γ = [-0.19, 3.62, 0, 0.95; 0.57, -0.38, 1.52, -0.76] -> codes [0 1 0 1; 1 0 1 -1].
	x := []float32{0.5, -1, 0.25, 0.1}
	gamma := 0.525
	// 8 bits: q = [64, -127, 32, 13], s = 127: dots [-114, 83].
	y := mustBitLinear158(t, 4, 2, plainConfig(8), w, nil).Forward(nil, x)
	closeValues(t, "8 bits", y, []float64{-114 * gamma / 127, 83 * gamma / 127}, 1e-6)
	cfg := plainConfig(8)
	cfg.Bias = true
	y = mustBitLinear158(t, 4, 2, cfg, w, []float32{1, 2}).Forward(nil, x)
	closeValues(t, "8 bits with bias", y, []float64{-114*gamma/127 + 1, 83*gamma/127 + 2}, 1e-6)
	// 4 bits: q = [4, -7, 2, 1], s = 7: dots [-6, 5].
	y = mustBitLinear158(t, 4, 2, plainConfig(4), w, nil).Forward(nil, x)
	closeValues(t, "4 bits", y, []float64{-6 * gamma / 7, 5 * gamma / 7}, 1e-6)
}

// BitLinear1_58 with per-group scales and with inputs shifted before a
// non-linearity, computed by hand from the formulas of the BitNet b1.58
// paper (absmean ternary weights, absmax activations with Qb-1 = 127 at 8
// bits) and of the BitNet paper (the shift η before a non-linearity, eq. 7;
// group quantisation, one set of scales per group of input features, from
// its section on model parallelism).
func TestBitLinear1_58ShiftedAndGroupedOutput(t *testing.T) {
	w := []float32{-0.1, 1.9, 0.0, 0.5, 0.3, -0.2, 0.8, -0.4} // 2 outputs × 4 inputs

	// Per group, columns {0,1} and {2,3}:
	//   group 0: {-0.1, 1.9; 0.3, -0.2}, γ0 = (0.1+1.9+0.3+0.2)/4 = 0.625,
	//            W/γ0 = [-0.16, 3.04; 0.48, -0.32] -> [0, 1; 0, 0];
	//   group 1: {0.0, 0.5; 0.8, -0.4}, γ1 = (0+0.5+0.8+0.4)/4 = 0.425,
	//            W/γ1 = [0, 1.18; 1.88, -0.94] -> [0, 1; 1, -1].
	// Codes: row 0 [0 1 | 0 1], row 1 [0 0 | 1 -1].
	grouped := plainConfig(8)
	grouped.Method = PerGroup(2)
	l := mustBitLinear158(t, 4, 2, grouped, w, nil)
	q := l.QuantizeWeights(nil)
	equalValues(t, "group codes", q.Codes, []float64{0, 1, 0, 1, 0, 0, 1, -1})
	closeValues(t, "group γ", q.Scale, []float64{0.625, 0.425}, 1e-6)
	// x = [1, -0.5 | 0.3, -0.5]:
	//   group 0: max|x| = 1,   s0 = 127/1 = 127:   x·s0 = [127, -63.5 -> -64 (half to even)];
	//   group 1: max|x| = 0.5, s1 = 127/0.5 = 254: x·s1 = [76.2 -> 76, -127].
	x := []float32{1, -0.5, 0.3, -0.5}
	a := l.QuantizeActivations(nil, x)
	equalValues(t, "group q", a.Q, []float64{127, -64, 76, -127})
	equalValues(t, "group scales", a.Scale, []float64{127, 254})
	// y = Σ_g dot_g·γ_g/s_g:
	//   row 0: dots [1·(-64), 1·(-127)] = [-64, -127];
	//   row 1: dots [0, 1·76 + (-1)·(-127)] = [0, 203].
	y := l.Forward(nil, x)
	closeValues(t, "per-group output", y, []float64{-64*0.625/127 - 127*0.425/254, 203 * 0.425 / 254}, 1e-6)

	// Shifted (UseBeforeNonlinear), per tensor: γ = 0.525, codes
	// [0 1 0 1; 1 0 1 -1] (as in TestBitLinear1_58Output). x = [0.1, 0.3, -0.2, 0.5]:
	// η = min x = -0.2, s = 127/max|x| = 127/0.5 = 254, x-η = [0.3, 0.5, 0, 0.7],
	// (x-η)·s = [76.2 -> 76, 127, 0, 177.8 -> clipped to Qb-1 = 127].
	shifted := plainConfig(8)
	shifted.UseBeforeNonlinear = true
	l = mustBitLinear158(t, 4, 2, shifted, w, nil)
	x = []float32{0.1, 0.3, -0.2, 0.5}
	a = l.QuantizeActivations(nil, x)
	equalValues(t, "shifted q", a.Q, []float64{76, 127, 0, 127})
	equalValues(t, "shifted scale", a.Scale, []float64{254})
	closeValues(t, "shift η", a.Shift, []float64{-0.2}, 1e-7)
	// y = dot·γ/s + γ·η·Σcodes:
	//   row 0: dot = 127 + 127 = 254, Σcodes = 2: 254·0.525/254 + 0.525·(-0.2)·2 = 0.525 - 0.21;
	//   row 1: dot = 76 - 127 = -51,  Σcodes = 1: -51·0.525/254 + 0.525·(-0.2).
	y = l.Forward(nil, x)
	closeValues(t, "shifted output", y, []float64{0.525 - 0.21, -51*0.525/254 - 0.105}, 1e-6)

	// Both: each group has its own γ_g, η_g and s_g. x = [0.1, 0.3 | -0.2, 0.5]:
	//   group 0: η0 = 0.1,  s0 = 127/0.3, x-η0 = [0, 0.2], ·s0 = [0, 84.7 -> 85];
	//   group 1: η1 = -0.2, s1 = 127/0.5 = 254, x-η1 = [0, 0.7], ·s1 = [0, 177.8 -> 127].
	// With the group codes above (row 0 [0 1 | 0 1], row 1 [0 0 | 1 -1]):
	//   row 0: dots [85, 127], Σcodes [1, 1]:
	//          85·0.625/(127/0.3) + 0.625·0.1·1 + 127·0.425/254 + 0.425·(-0.2)·1;
	//   row 1: dots [0, -127], Σcodes [0, 0]: -127·0.425/254.
	both := grouped
	both.UseBeforeNonlinear = true
	l = mustBitLinear158(t, 4, 2, both, w, nil)
	x = []float32{0.1, 0.3, -0.2, 0.5}
	a = l.QuantizeActivations(nil, x)
	equalValues(t, "grouped shifted q", a.Q, []float64{0, 85, 0, 127})
	closeValues(t, "grouped shifts", a.Shift, []float64{0.1, -0.2}, 1e-7)
	y = l.Forward(nil, x)
	closeValues(t, "grouped shifted output", y,
		[]float64{85*0.625*0.3/127 + 0.625*0.1 + 127*0.425/254 - 0.425*0.2, -127 * 0.425 / 254}, 1e-6)
}

func TestConfigValidation(t *testing.T) {
	bad := []BitLinearConfig{
		{BitWidth: 1},
		{BitWidth: 9},
		{Eps: -1},
		{Eps: math.NaN()},
		{Method: PerGroup(3)},
		{InputNorm: NormKind(7)},
	}
	for _, cfg := range bad {
		if _, err := NewBitLinear(4, 2, cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("config %+v accepted for a 4-input layer", cfg)
		}
	}
	if _, err := NewBitLinear1_58From(4, 2, plainConfig(8), make([]float32, 7), nil); err == nil {
		t.Error("7 weights accepted for a 4×2 layer")
	}
	cfg := plainConfig(8)
	if _, err := NewBitLinear1_58From(4, 2, cfg, make([]float32, 8), []float32{1, 2}); err == nil {
		t.Error("a bias accepted with Bias off")
	}
	l, err := NewBitLinear(4, 2, BitLinearConfig{}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c := l.Config(); c.BitWidth != DefaultBitWidth || c.Eps != DefaultEps {
		t.Errorf("zero config took BitWidth %d, Eps %v; want the defaults", c.BitWidth, c.Eps)
	}
}

// The zero config is the bare LLaMA-style projection (no bias, no input
// norm) and DefaultBitLinearConfig the paper's layer (bias, LayerNorm); both
// take the default bit width and eps.
func TestZeroAndDefaultConfigs(t *testing.T) {
	zero, err := NewBitLinear1_58(4, 2, BitLinearConfig{}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	c := zero.Config()
	if c.BitWidth != DefaultBitWidth || c.Eps != DefaultEps || c.Bias || c.InputNorm != NormNone || c.UseBeforeNonlinear || c.Method.groups() != 1 {
		t.Errorf("zero config became %+v", c)
	}
	if ps := zero.Params(); len(ps) != 1 || ps[0] != zero.Weight || zero.Bias != nil {
		t.Errorf("the zero config's layer has %d parameters, want the weight only", len(ps))
	}
	def, err := NewBitLinear1_58(4, 2, DefaultBitLinearConfig(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c := def.Config(); c.BitWidth != DefaultBitWidth || c.Eps != DefaultEps || !c.Bias || c.InputNorm != NormLayer || c.UseBeforeNonlinear || c.Method.groups() != 1 {
		t.Errorf("DefaultBitLinearConfig is %+v", c)
	}
	if ps := def.Params(); len(ps) != 2 || def.Bias == nil {
		t.Errorf("the default layer has %d parameters, want weight and bias", len(ps))
	}
	// The zero config normalises nothing: the same input gives the same
	// output as the explicit bare config.
	x := []float32{1, 2, 3, 4}
	bare := mustBitLinear158(t, 4, 2, plainConfig(8), zero.Weight.Data, nil)
	if got, want := fmt.Sprint(zero.Forward(nil, x)), fmt.Sprint(bare.Forward(nil, x)); got != want {
		t.Errorf("zero config output %s, bare config %s", got, want)
	}
}

func TestRoundingHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	values := []float32{0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 0x1p22 - 0.5, -0x1p22 + 0.5, 0x1p22, 0x1p23 + 1, 3e9, -3e9, 0.49999997, 0.50000006}
	for k := -300; k <= 300; k++ {
		values = append(values, float32(k)+0.5, float32(k)+0.25, float32(k)-0.75)
	}
	for range 10000 {
		values = append(values, float32(rng.NormFloat64()*200))
	}
	for _, v := range values {
		want := float32(math.RoundToEven(float64(v)))
		if got := roundHalfEven(v); got != want {
			t.Fatalf("roundHalfEven(%v) = %v, want %v", v, got, want)
		}
	}

	// ternaryCode against its definition, at and next to the thresholds ±γ/2.
	for range 20000 {
		gamma := float32(math.Exp(rng.NormFloat64() * 3))
		half := gamma / 2
		ws := []float32{float32(rng.NormFloat64()) * gamma, half, -half,
			math.Nextafter32(half, 1), math.Nextafter32(half, 0), math.Nextafter32(-half, -1), math.Nextafter32(-half, 0),
			1.5 * gamma, math.Nextafter32(1.5*gamma, 0), 0}
		for _, w := range ws {
			want := float32(max(-1, min(1, math.RoundToEven(float64(w/gamma)))))
			if got := ternaryCode(w, gamma); got != want {
				t.Fatalf("ternaryCode(%v, %v) = %v, want %v (w/γ = %v)", w, gamma, got, want, w/gamma)
			}
		}
	}
}
