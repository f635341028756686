package model

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/synthetic"
)

// synthetic2B4T writes, once per test binary, a random-weight model with the
// exact BitNet b1.58 2B4T shape (TQ2_0 projections, F16 tied embeddings,
// about 1.2 GB) into a temporary directory removed when the benchmarks end.
var synthetic2B4T = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "bitnet-bench-")
	if err != nil {
		return "", err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "2b4t-tq2_0.gguf")
	return path, synthetic.Write(path, synthetic.Options{Shape: synthetic.Shape2B4T, WeightType: kernels.TQ2_0, Seed: 1})
})

var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

func load2B4T(b *testing.B, threads int) *Model {
	b.Helper()
	path, err := synthetic2B4T()
	if err != nil {
		b.Fatal(err)
	}
	m, err := Load(path, Options{Threads: threads, ContextLength: 512})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkDecode2B4T measures generation speed: one token per forward pass
// after a short prompt, on the 2B4T shape. Reports tokens/s.
func BenchmarkDecode2B4T(b *testing.B) {
	for _, threads := range []int{1, runtime.NumCPU()} {
		b.Run("threads="+strconv.Itoa(threads), func(b *testing.B) {
			m := load2B4T(b, threads)
			s := m.NewSession()
			ctx := context.Background()
			if err := s.Forward(ctx, []int{1, 2, 3, 4}, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if s.Len() == s.Cap() {
					s.Truncate(4)
				}
				s.next[0] = i % m.Config.VocabSize
				if err := s.Forward(ctx, s.next[:], nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(m.WeightBytes())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkPrefill2B4T measures prompt processing of 128 tokens on the 2B4T
// shape. Reports tokens/s.
func BenchmarkPrefill2B4T(b *testing.B) {
	prompt := make([]int, 128)
	for i := range prompt {
		prompt[i] = (i * 7919) % 128000
	}
	for _, threads := range []int{1, runtime.NumCPU()} {
		b.Run("threads="+strconv.Itoa(threads), func(b *testing.B) {
			m := load2B4T(b, threads)
			s := m.NewSession()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Truncate(0)
				if err := s.Forward(ctx, prompt, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(prompt))/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkResidentMemory2B4T loads the 2B4T-shape model, evaluates a few
// tokens and reports resident memory against the file size plus the KV
// cache: weights are used in place from the memory map, never copied.
func BenchmarkResidentMemory2B4T(b *testing.B) {
	path, err := synthetic2B4T()
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		before := residentBytes(b)
		m := load2B4T(b, 0)
		s := m.NewSession()
		if err := s.Forward(context.Background(), []int{1, 2, 3}, nil); err != nil {
			b.Fatal(err)
		}
		grown := residentBytes(b) - before
		budget := float64(st.Size()) + float64(s.cache.bytes())
		b.ReportMetric(float64(grown)/1e6, "rss-MB")
		b.ReportMetric(float64(grown)/budget, "rss/(file+kv)")
		m.Close()
	}
}

// TestResidentMemory checks on a mid-sized synthetic model that loading and
// running it grows resident memory by little more than the file and the KV
// cache: about 10% slack, covering scratch buffers and the runtime.
func TestResidentMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 90 MB model")
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	shape := synthetic.Shape{Hidden: 1024, FFN: 2816, Layers: 8, Heads: 16, KVHeads: 4, Vocab: 32000, Context: 256}
	if err := synthetic.Write(path, synthetic.Options{Shape: shape, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := residentBytes(t)
	m, err := Load(path, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.NewSession()
	if err := s.Forward(context.Background(), []int{1, 2, 3, 4, 5}, nil); err != nil {
		t.Fatal(err)
	}
	grown := float64(residentBytes(t) - before)
	budget := 1.1 * float64(st.Size()+s.cache.bytes())
	t.Logf("resident memory grew %.1f MB; file %.1f MB, KV cache %.1f MB", grown/1e6, float64(st.Size())/1e6, float64(s.cache.bytes())/1e6)
	if grown > budget {
		t.Errorf("resident memory grew %.1f MB, more than 110%% of file + KV cache (%.1f MB)", grown/1e6, budget/1e6)
	}
}

// residentBytes reads the process's resident set size (Linux only).
func residentBytes(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("resident memory is only measured on Linux")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}
