package bitnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// configVariants returns configurations covering every option, for layers
// whose input width splits into groups groups.
func configVariants(groups int) []BitLinearConfig {
	var cfgs []BitLinearConfig
	for _, bits := range []int{8, 4, 2} {
		for _, shift := range []bool{false, true} {
			for i, norm := range []NormKind{NormNone, NormLayer, NormRMS} {
				cfgs = append(cfgs, BitLinearConfig{
					BitWidth:           bits,
					Eps:                DefaultEps,
					Bias:               i != 1,
					UseBeforeNonlinear: shift,
					Method:             PerGroup(groups),
					InputNorm:          norm,
				})
			}
		}
	}
	return cfgs
}

// randomInput draws rows of activations with per-row magnitudes that vary
// over orders of magnitude, and one all-zero row.
func randomInput(rng *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for t := range rows {
		scale := math.Exp(2 * rng.NormFloat64())
		for k := range cols {
			x[t*cols+k] = float32(rng.NormFloat64() * scale)
		}
	}
	clear(x[:cols])
	return x
}

func sameOutputs(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: packed output[%d] = %v, training form %v", name, i, got[i], want[i])
		}
	}
}

func TestPackedBitLinearEqualsTraining(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, shape := range []struct{ in, out, groups int }{{64, 7, 1}, {64, 5, 2}, {13, 3, 1}, {48, 9, 3}} {
		for i, cfg := range configVariants(shape.groups) {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(shape.in)))
			l, err := NewBitLinear(shape.in, shape.out, cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			if l.NormGain != nil {
				copy(l.NormGain.Data, randVec(rng, shape.in, 1))
			}
			pl, err := l.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if want := shape.out * shape.groups * ((shape.in/shape.groups + 7) / 8); pl.WeightBytes() != want {
				t.Fatalf("packed weights take %d bytes, want %d", pl.WeightBytes(), want)
			}
			x := randomInput(rng, 6, shape.in)
			want := append([]float32(nil), l.Forward(pool, x)...)
			name := fmt.Sprintf("BitLinear %d->%d %+v", shape.in, shape.out, cfg)
			sameOutputs(t, name, pl.Forward(pool, x), want)
			sameOutputs(t, name+" serial", pl.Forward(nil, x), want)
		}
	}
}

func TestPackedBitLinear1_58EqualsTraining(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, shape := range []struct{ in, out, groups int }{{256, 7, 1}, {256, 5, 2}, {384, 3, 3}} {
		for i, cfg := range configVariants(shape.groups) {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(shape.in)))
			l, err := NewBitLinear1_58(shape.in, shape.out, cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			if l.NormGain != nil {
				copy(l.NormGain.Data, randVec(rng, shape.in, 1))
			}
			pl, err := l.Pack(kernels.I2_S)
			if err != nil {
				t.Fatal(err)
			}
			if want := shape.out * shape.in / 4; pl.WeightBytes() != want {
				t.Fatalf("packed weights take %d bytes, want %d", pl.WeightBytes(), want)
			}
			x := randomInput(rng, 6, shape.in)
			want := append([]float32(nil), l.Forward(pool, x)...)
			name := fmt.Sprintf("BitLinear1_58 %d->%d %+v", shape.in, shape.out, cfg)
			sameOutputs(t, name, pl.Forward(pool, x), want)
			sameOutputs(t, name+" serial", pl.Forward(nil, x), want)

			// The same matrix loaded from a file computes the same outputs.
			if shape.groups == 1 {
				var bias []float32
				if l.Bias != nil {
					bias = l.Bias.Data
				}
				loaded, err := NewPackedBitLinear1_58(pl.Matrices()[0], cfg, bias)
				if err != nil {
					t.Fatal(err)
				}
				if loaded.NormGain() != nil {
					copy(loaded.NormGain(), l.NormGain.Data)
				}
				got := loaded.Forward(pool, x)
				for i := range want {
					if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
						t.Fatalf("%s loaded: output[%d] = %v, want %v", name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// The default LLaMA-style configuration runs on the engine's own activation
// quantiser and matches the training form exactly.
func TestPackedBitLinear1_58UsesEngineArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	cfg := BitLinearConfig{BitWidth: 8, Eps: DefaultEps, InputNorm: NormNone}
	l, err := NewBitLinear1_58(512, 33, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := l.Pack(kernels.I2_S)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.engineQuant {
		t.Fatal("8-bit per-tensor unshifted layer does not use kernels.QuantizeRowsI8")
	}
	x := randomInput(rng, 9, 512)
	sameOutputs(t, "engine arithmetic", pl.Forward(nil, x), l.Forward(nil, x))
}

// TQ2_0 and TQ1_0 store γ as fp16 in every block of 256 and MatMulI8 adds the
// blocks in float. The packed output must be exactly that arithmetic applied
// to the training form's integer block sums.
func TestPackedBitLinear1_58BlockTypes(t *testing.T) {
	for _, typ := range []kernels.Type{kernels.TQ2_0, kernels.TQ1_0} {
		for _, groups := range []int{1, 2} {
			rng := rand.New(rand.NewPCG(uint64(typ), uint64(groups)))
			cfg := BitLinearConfig{BitWidth: 8, Bias: true, Method: PerGroup(groups)}
			const in, out, rows = 512, 6, 4
			l, err := NewBitLinear1_58(in, out, cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := l.Pack(typ)
			if err != nil {
				t.Fatal(err)
			}
			x := randomInput(rng, rows, in)
			train := append([]float32(nil), l.Forward(nil, x)...)
			got := pl.Forward(nil, x)
			core, gs := l.l, in/groups
			for tok := range rows {
				for r := range out {
					var want, magnitude float32
					for g := range groups {
						d := kernels.F16ToF32(kernels.F32ToF16(core.wq.Scale[g]))
						var acc float32
						for b := g * gs; b < (g+1)*gs; b += kernels.QK_K {
							var dot float32
							for k := b; k < b+kernels.QK_K; k++ {
								dot += core.wq.Codes[r*in+k] * core.xq.Q[tok*in+k]
							}
							acc += d * dot
						}
						want += acc / core.xq.Scale[tok*groups+g]
						magnitude += float32(math.Abs(float64(acc / core.xq.Scale[tok*groups+g])))
					}
					want += l.Bias.Data[r]
					i := tok*out + r
					if math.Abs(float64(got[i]-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
						t.Fatalf("%v groups %d: output[%d] = %v, want %v", typ, groups, i, got[i], want)
					}
					// And the result is the training form's to fp16 precision of γ.
					if math.Abs(float64(got[i]-train[i])) > 0x1p-11*float64(magnitude)+1e-5 {
						t.Fatalf("%v groups %d: output[%d] = %v, training form %v", typ, groups, i, got[i], train[i])
					}
				}
			}
		}
	}
}

func TestPackRejectsShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	l, err := NewBitLinear1_58(100, 4, BitLinearConfig{}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []kernels.Type{kernels.I2_S, kernels.TQ2_0, kernels.F32} {
		if _, err := l.Pack(typ); err == nil {
			t.Errorf("packed 100 inputs as %v", typ)
		}
	}
}
