package model

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/bitnet-go/bitnet/model/golden"
	"github.com/bitnet-go/bitnet/model/synthetic"
)

// perplexity returns exp of the mean negative log-likelihood that logits
// (one row per position of seq) give the next token of seq.
func perplexity(logits [][]float32, seq []int) float64 {
	var nll float64
	for i := 0; i+1 < len(seq); i++ {
		row := logits[i]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - m)
		}
		nll += m + math.Log(z) - float64(row[seq[i+1]])
	}
	return math.Exp(nll / float64(len(seq)-1))
}

// TestInt8HeadCost measures what Options.Int8Head costs on every golden case
// whose lm head is stored as floats: the logits of the int8 head against the
// float64 reference (ref-none, float activations), next to those of the
// stored head, and the perplexity of the case's sequence under each. The
// documented claim (head.go) is checked: the perplexity moves by less than
// 1% and the predicted tokens stay the reference's.
func TestInt8HeadCost(t *testing.T) {
	for _, c := range golden.Cases(t) {
		ref, err := c.Logits("ref-none")
		if err != nil {
			continue // no float reference for this case
		}
		t.Run(c.Name, func(t *testing.T) {
			logits := map[bool][][]float32{}
			for _, int8Head := range []bool{false, true} {
				m, err := Load(c.ModelPath(), Options{Activations: ActFloat, Int8Head: int8Head})
				if err != nil {
					t.Fatal(err)
				}
				if int8Head && m.head8 == nil {
					m.Close()
					t.Skipf("lm head stored as %v, not floats", m.Weights.Output.Type)
				}
				logits[int8Head] = teacherForced(t, m, c.Tokens.Sequence)
				m.Close()
			}
			seq := c.Tokens.Sequence
			stored, int8 := golden.Compare(logits[false], ref), golden.Compare(logits[true], ref)
			pRef, pStored, pInt8 := perplexity(ref, seq), perplexity(logits[false], seq), perplexity(logits[true], seq)
			t.Logf("stored head vs ref-none: %v; perplexity %.5g (ref %.5g)", stored, pStored, pRef)
			var sum, sq float64
			var n int
			for _, row := range ref {
				for _, v := range row {
					sum, sq, n = sum+float64(v), sq+float64(v)*float64(v), n+1
				}
			}
			std := math.Sqrt(sq/float64(n) - (sum/float64(n))*(sum/float64(n)))
			t.Logf("int8 head   vs ref-none: %v; perplexity %.5g (%+.3f%%); mean error %.2f%% of the logits' std %.3g",
				int8, pInt8, 100*(pInt8/pRef-1), 100*int8.MeanAbs/std, std)
			if math.Abs(pInt8/pRef-1) > 0.01 {
				t.Errorf("int8 head moves the perplexity by %+.3f%%, more than 1%%", 100*(pInt8/pRef-1))
			}
			// The predicted token may only change where the reference's two
			// best logits are closer than twice the head's error there.
			for i, row := range logits[true] {
				got, want := golden.Argmax(row), golden.Argmax(ref[i])
				if got == want {
					continue
				}
				var e float64
				for v := range row {
					e = math.Max(e, math.Abs(float64(row[v]-ref[i][v])))
				}
				if margin := float64(ref[i][want] - ref[i][got]); margin > 2*e {
					t.Errorf("position %d: int8 head predicts %d, reference %d by a margin of %.3g, more than twice the head's error %.3g",
						i, got, want, margin, e)
				}
			}
		})
	}
}

// TestInt8HeadResidentMemory checks that the re-encoded head replaces the
// float head in resident memory rather than adding to it: the float pages
// read by the re-encoding are released, so loading and running stays within
// the budget of TestResidentMemory (file + KV cache + 10%).
func TestInt8HeadResidentMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 90 MB model")
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	shape := synthetic.Shape{Hidden: 1024, FFN: 2816, Layers: 8, Heads: 16, KVHeads: 4, Vocab: 32000, Context: 256}
	if err := synthetic.Write(path, synthetic.Options{Shape: shape, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := residentBytes(t)
	m, err := Load(path, Options{Threads: 2, Int8Head: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.head8 == nil {
		t.Fatal("no int8 head built for an F16 head")
	}
	s := m.NewSession()
	if err := s.Forward(context.Background(), []int{1, 2, 3, 4, 5}, nil); err != nil {
		t.Fatal(err)
	}
	grown := float64(residentBytes(t) - before)
	budget := 1.1 * float64(st.Size()+s.cache.bytes())
	t.Logf("resident memory grew %.1f MB; file %.1f MB, KV cache %.1f MB, int8 head %.1f MB",
		grown/1e6, float64(st.Size())/1e6, float64(s.cache.bytes())/1e6, float64(m.head8.Bytes())/1e6)
	if grown > budget {
		t.Errorf("resident memory grew %.1f MB, more than 110%% of file + KV cache (%.1f MB)", grown/1e6, budget/1e6)
	}
}
