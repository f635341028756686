package bench

import (
	"context"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		xs := append([]float64(nil), c.xs...)
		if got := Median(xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
		for i := range xs {
			if xs[i] != c.xs[i] {
				t.Errorf("Median reordered its argument: %v", xs)
			}
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{},
		{Model: "x", Synthetic: "tiny"},
		{Synthetic: "no-such-shape"},
		{Synthetic: "tiny", SyntheticType: kernels.F16},
		{Synthetic: "tiny", PromptTokens: -1, GenTokens: -1},
		{Synthetic: "tiny", Threads: []int{0}},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) succeeded", o)
		}
	}
}

// TestRun benchmarks the tiny synthetic shape and checks the result's
// consistency: medians among their samples, the top level equal to the last
// run, bytes per token within the file, utilisation as defined.
func TestRun(t *testing.T) {
	r, err := Run(context.Background(), Options{
		Synthetic: "tiny", SyntheticType: kernels.TQ1_0, PromptTokens: 8, GenTokens: 3,
		Threads: []int{2, 1}, Repetitions: 3, Int8Head: true, BandwidthBytes: 8 << 20, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.WeightType != "TQ1_0" || r.HeadType != "int8 per row (from F16)" || r.BytesPerToken <= 0 || r.BytesPerToken >= r.ModelBytes {
		t.Errorf("weights %s, head %s, %d bytes per token of %d", r.WeightType, r.HeadType, r.BytesPerToken, r.ModelBytes)
	}
	if len(r.Runs) != 2 || r.Threads != 1 || r.GenTokensPerSec != r.Runs[1].GenTokensPerSec {
		t.Fatalf("runs %+v, top-level threads %d", r.Runs, r.Threads)
	}
	for _, run := range r.Runs {
		within := func(m float64, xs []float64) bool {
			lo, hi := xs[0], xs[0]
			for _, x := range xs {
				lo, hi = min(lo, x), max(hi, x)
			}
			return len(xs) == 3 && m >= lo && m <= hi && lo > 0
		}
		if !within(run.PromptTokensPerSec, run.PromptSamples) || !within(run.GenTokensPerSec, run.GenSamples) || !within(run.ReadBandwidth, run.ReadSamples) {
			t.Errorf("threads %d: medians outside their samples: %+v", run.Threads, run)
		}
		want := float64(r.BytesPerToken) * run.GenTokensPerSec / run.ReadBandwidth
		if run.BandwidthUtilisation != want {
			t.Errorf("threads %d: utilisation %v, want %v", run.Threads, run.BandwidthUtilisation, want)
		}
	}
}
