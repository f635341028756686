package bitnet_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

func ExampleDefaultBitLinearConfig() {
	cfg := bitnet.DefaultBitLinearConfig()
	fmt.Println("bit width:", cfg.BitWidth)
	fmt.Println("eps:", cfg.Eps)
	fmt.Println("bias:", cfg.Bias)
	fmt.Println("use before non-linearity:", cfg.UseBeforeNonlinear)
	fmt.Println("method:", cfg.Method)
	fmt.Println("input norm:", cfg.InputNorm)
	// Output:
	// bit width: 8
	// eps: 1e-05
	// bias: true
	// use before non-linearity: false
	// method: per-tensor
	// input norm: layernorm
}

// A BitLinear layer of the BitNet paper with 4-bit activations and two
// quantisation groups, run on a batch of two tokens.
func ExampleNewBitLinear() {
	cfg := bitnet.DefaultBitLinearConfig()
	cfg.BitWidth = 4
	cfg.Method = bitnet.PerGroup(2)
	layer, err := bitnet.NewBitLinear(8, 3, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	x := []float32{
		0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, // token 0
		1, 2, 3, 4, 5, 6, 7, 8, // token 1
	}
	y := layer.Forward(nil, x) // a nil pool runs on this goroutine
	fmt.Printf("y = %.3f\n", y)
	w := layer.QuantizeWeights(nil)
	fmt.Println("weight codes of row 0:", w.Codes[:8])
	a := layer.QuantizeActivations(nil, []float32{0.5, -1, 0.25, 0.1, 0, 0, 0, 0})
	fmt.Println("4-bit activations:", a.Q)
	// Output:
	// y = [-0.245 3.543 -1.859 0.563 0.816 1.171]
	// weight codes of row 0: [1 1 1 -1 -1 -1 1 1]
	// 4-bit activations: [4 -8 2 1 0 0 0 0]
}

// A LLaMA-style BitNet b1.58 projection (BitLinear1_58 without bias,
// normalised outside) with a training step and its packed inference form,
// which gives the same outputs. (Go example names cannot refer to an
// identifier with an underscore, so this is a package example.) README.md
// shows this function verbatim.
func Example_bitLinear158() {
	pool := kernels.NewPool(2)
	defer pool.Close()

	// The zero config: 8-bit activations, no bias, no input norm.
	var cfg bitnet.BitLinearConfig
	layer, err := bitnet.NewBitLinear1_58(256, 4, cfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		panic(err)
	}
	x := make([]float32, 256) // one token; n tokens are n rows of 256
	for i := range x {
		x[i] = float32(i%7) - 3
	}

	// Training: forward, backward with dLoss/dy (here: minimise y[0]),
	// which adds the gradient of the latent weights to layer.Weight.Grad,
	// then one SGD step.
	fmt.Printf("y = %.3f\n", layer.Forward(pool, x))
	layer.Backward(pool, []float32{1, 0, 0, 0})
	for i, g := range layer.Weight.Grad {
		layer.Weight.Data[i] -= 0.01 * g
	}
	layer.Weight.ZeroGrad()
	y := layer.Forward(pool, x)
	fmt.Printf("y = %.3f after one step\n", y)

	// Inference: ternary weights packed as I2_S, 2 bits each.
	packed, err := layer.Pack(kernels.I2_S)
	if err != nil {
		panic(err)
	}
	fmt.Println("packed bytes:", packed.WeightBytes())
	fmt.Println("same output:", fmt.Sprint(packed.Forward(pool, x)) == fmt.Sprint(y))
	// Output:
	// y = [-1.977 -0.208 0.342 -0.543]
	// y = [-8.157 -0.211 0.346 -0.550] after one step
	// packed bytes: 256
	// same output: true
}
