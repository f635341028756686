// Package bench measures how fast bitnet runs a model, the way llama-bench
// does: prompt processing (a batch of tokens in one pass) and generation
// (one token per pass) in tokens per second, as medians over repetitions. It
// also measures the machine's memory read bandwidth in the same run, because
// generation reads every weight once per token: bytes per token times tokens
// per second, divided by that bandwidth, says how close decoding comes to
// what the memory allows.
package bench

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/model/loader"
	"github.com/bitnet-go/bitnet/model/synthetic"
)

// Options describe a benchmark. Zero values take the defaults noted.
type Options struct {
	// Model is what to load (a GGUF file, a Hugging Face directory or a
	// downloaded model's name). Empty when Synthetic is set.
	Model string
	// Synthetic names a shape of synthetic.Presets ("2b4t": BitNet b1.58
	// 2B4T) to write with random weights to a temporary file and benchmark,
	// so that no download is needed.
	Synthetic string
	// SyntheticType encodes the synthetic model's projections (default TQ2_0).
	SyntheticType kernels.Type
	// TempDir is where the synthetic model is written (default os.TempDir()).
	TempDir string

	PromptTokens int   // tokens of the prompt-processing test (default 128; negative skips it)
	GenTokens    int   // tokens of the generation test (default 64; negative skips it)
	Threads      []int // thread counts to test (default: one per CPU)
	Repetitions  int   // repetitions of each test (default 5)
	// BatchSize is the model's prompt batch size (default model.DefaultBatchSize).
	BatchSize int
	// Int8Head re-encodes a float lm head to int8 (model.Options.Int8Head).
	Int8Head bool
	// BandwidthBytes is the size of the buffer read to measure memory
	// bandwidth (default 512 MiB, far beyond any cache).
	BandwidthBytes int
	// Progress, if set, is told what is happening.
	Progress func(msg string)
}

// Result is the outcome of a benchmark. Its JSON form is what
// `bitnet bench --json` prints; the top-level speeds are those of the last
// thread count tested, and Runs holds every thread count.
type Result struct {
	Model      string `json:"model"`
	WeightType string `json:"weight_type"`
	HeadType   string `json:"head_type"`
	ModelBytes int64  `json:"model_bytes"`
	// BytesPerToken is the weight bytes read per generated token: every
	// projection and the lm head (the embedding lookup reads one row).
	BytesPerToken int64  `json:"bytes_per_token"`
	CPU           string `json:"cpu"`
	CPUs          int    `json:"cpus"`
	SIMD          string `json:"simd"`
	PromptTokens  int    `json:"pp_tokens"`
	GenTokens     int    `json:"tg_tokens"`
	Repetitions   int    `json:"repetitions"`
	BatchSize     int    `json:"batch_size"`

	Threads              int     `json:"threads"`
	PromptTokensPerSec   float64 `json:"pp_tokens_per_s"`
	GenTokensPerSec      float64 `json:"tg_tokens_per_s"`
	ReadBandwidth        float64 `json:"read_bandwidth_bytes_per_s"`
	BandwidthUtilisation float64 `json:"bandwidth_utilisation"`

	Runs []ThreadResult `json:"runs"`
}

// ThreadResult is the measurements at one thread count.
type ThreadResult struct {
	Threads            int       `json:"threads"`
	PromptTokensPerSec float64   `json:"pp_tokens_per_s"` // median
	GenTokensPerSec    float64   `json:"tg_tokens_per_s"` // median
	PromptSamples      []float64 `json:"pp_samples"`      // tokens/s of each repetition
	GenSamples         []float64 `json:"tg_samples"`
	// ReadBandwidth is the median memory read bandwidth, in bytes per second,
	// with this many threads.
	ReadBandwidth float64   `json:"read_bandwidth_bytes_per_s"`
	ReadSamples   []float64 `json:"read_samples"`
	// BandwidthUtilisation is BytesPerToken * GenTokensPerSec / ReadBandwidth.
	BandwidthUtilisation float64 `json:"bandwidth_utilisation"`
}

// Run performs the benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	path := o.Model
	if o.Synthetic != "" {
		dir, err := os.MkdirTemp(o.TempDir, "bitnet-bench-")
		if err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, o.Synthetic+".gguf")
		progress("writing synthetic %s model (%v weights) to %s", o.Synthetic, o.SyntheticType, path)
		err = synthetic.Write(path, synthetic.Options{Shape: synthetic.Presets[o.Synthetic], WeightType: o.SyntheticType, Seed: 1})
		if err != nil {
			return nil, err
		}
	}
	size, err := diskSize(path)
	if err != nil {
		return nil, fmt.Errorf("benchmark %s: %w", path, err)
	}
	res := &Result{
		Model: o.Model, ModelBytes: size, CPU: cpuName(), CPUs: runtime.NumCPU(), SIMD: kernels.SIMD(),
		PromptTokens: max(o.PromptTokens, 0), GenTokens: max(o.GenTokens, 0), Repetitions: o.Repetitions,
	}
	if o.Synthetic != "" {
		res.Model = "synthetic " + o.Synthetic
	}
	buf := make([]byte, o.BandwidthBytes)
	for i := range buf {
		buf[i] = byte(i) // commit the pages before timing
	}
	for _, threads := range o.Threads {
		run, err := o.runThreads(ctx, path, threads, res, buf, progress)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
	}
	last := res.Runs[len(res.Runs)-1]
	res.Threads, res.PromptTokensPerSec, res.GenTokensPerSec = last.Threads, last.PromptTokensPerSec, last.GenTokensPerSec
	res.ReadBandwidth, res.BandwidthUtilisation = last.ReadBandwidth, last.BandwidthUtilisation
	return res, nil
}

func (o *Options) defaults() error {
	if (o.Model == "") == (o.Synthetic == "") {
		return fmt.Errorf("benchmark: give a model or a synthetic shape, not both or neither")
	}
	if o.Synthetic != "" {
		if _, ok := synthetic.Presets[o.Synthetic]; !ok {
			names := make([]string, 0, len(synthetic.Presets))
			for n := range synthetic.Presets {
				names = append(names, n)
			}
			slices.Sort(names)
			return fmt.Errorf("benchmark: unknown synthetic shape %q (have %s)", o.Synthetic, strings.Join(names, ", "))
		}
		if o.SyntheticType == 0 {
			o.SyntheticType = kernels.TQ2_0
		}
		if !o.SyntheticType.Ternary() {
			return fmt.Errorf("benchmark: synthetic weights must be ternary, not %v", o.SyntheticType)
		}
	}
	if o.PromptTokens == 0 {
		o.PromptTokens = 128
	}
	if o.GenTokens == 0 {
		o.GenTokens = 64
	}
	if o.PromptTokens < 0 && o.GenTokens < 0 {
		return fmt.Errorf("benchmark: nothing to measure: both tests skipped")
	}
	if len(o.Threads) == 0 {
		o.Threads = []int{runtime.NumCPU()}
	}
	for _, t := range o.Threads {
		if t <= 0 || t > 1024 {
			return fmt.Errorf("benchmark: thread count %d out of range", t)
		}
	}
	if o.Repetitions <= 0 {
		o.Repetitions = 5
	}
	if o.BandwidthBytes <= 0 {
		o.BandwidthBytes = 512 << 20
	}
	return nil
}

// runThreads measures one thread count.
func (o *Options) runThreads(ctx context.Context, path string, threads int, res *Result, buf []byte, progress func(string, ...any)) (ThreadResult, error) {
	run := ThreadResult{Threads: threads}
	progress("loading %s with %d threads", path, threads)
	l, err := loader.Load(path, model.Options{
		Threads:       threads,
		ContextLength: max(o.PromptTokens, o.GenTokens, 1),
		BatchSize:     o.BatchSize,
		Int8Head:      o.Int8Head,
	})
	if err != nil {
		return run, err
	}
	defer l.Close()
	m := l.Model
	res.BytesPerToken = m.WeightBytes() + int64(m.Weights.TokenEmbd.Bytes()/m.Weights.TokenEmbd.Rows)
	res.BatchSize = m.Options().BatchSize
	res.WeightType = m.Weights.Layers[0].Q.W.Type.String()
	res.HeadType = m.Weights.Output.Type.String()
	if m.Int8Head() {
		res.HeadType = "int8 per row (from " + res.HeadType + ")"
	}

	rng := rand.New(rand.NewPCG(uint64(threads), 7))
	tokens := func(n int) []int {
		ids := make([]int, n)
		for i := range ids {
			ids[i] = rng.IntN(m.Config.VocabSize)
		}
		return ids
	}
	s := m.NewSession()
	prompt := tokens(max(o.PromptTokens, 1))
	gen := tokens(max(o.GenTokens, 1))
	pp := func() (float64, error) {
		s.Truncate(0)
		start := time.Now()
		if err := s.Forward(ctx, prompt, nil); err != nil {
			return 0, err
		}
		return float64(len(prompt)) / time.Since(start).Seconds(), nil
	}
	tg := func() (float64, error) {
		s.Truncate(0)
		start := time.Now()
		for i := range gen {
			if err := s.Forward(ctx, gen[i:i+1], nil); err != nil {
				return 0, err
			}
		}
		return float64(len(gen)) / time.Since(start).Seconds(), nil
	}
	// Warm up: the first passes fault the weights in and analyse them.
	progress("warming up")
	if o.PromptTokens > 0 {
		if _, err := pp(); err != nil {
			return run, err
		}
	}
	if o.GenTokens > 0 {
		if _, err := tg(); err != nil {
			return run, err
		}
	}
	// The bandwidth is sampled between the repetitions rather than after
	// them all, so that on a shared machine it sees the same neighbours as
	// the generation it is compared with.
	bw := newBandwidthProbe(buf, threads)
	defer bw.close()
	for r := 0; r < o.Repetitions; r++ {
		if o.PromptTokens > 0 {
			v, err := pp()
			if err != nil {
				return run, err
			}
			run.PromptSamples = append(run.PromptSamples, v)
			progress("threads %d, repetition %d: pp%d %.2f tokens/s", threads, r+1, o.PromptTokens, v)
		}
		if o.GenTokens > 0 {
			v, err := tg()
			if err != nil {
				return run, err
			}
			run.GenSamples = append(run.GenSamples, v)
			progress("threads %d, repetition %d: tg%d %.2f tokens/s", threads, r+1, o.GenTokens, v)
		}
		run.ReadSamples = append(run.ReadSamples, bw.measure())
		progress("threads %d, repetition %d: memory read %.2f GB/s", threads, r+1, run.ReadSamples[r]/1e9)
	}
	run.PromptTokensPerSec = Median(run.PromptSamples)
	run.GenTokensPerSec = Median(run.GenSamples)
	run.ReadBandwidth = Median(run.ReadSamples)
	if run.ReadBandwidth > 0 {
		run.BandwidthUtilisation = float64(res.BytesPerToken) * run.GenTokensPerSec / run.ReadBandwidth
	}
	return run, nil
}

// bandwidthProbe measures memory read bandwidth: threads goroutines each
// read their contiguous share of a buffer far larger than the caches, with
// the kernels' widest loads.
type bandwidthProbe struct {
	pool *kernels.Pool
	task *readTask
}

func newBandwidthProbe(buf []byte, threads int) *bandwidthProbe {
	b := &bandwidthProbe{pool: kernels.NewPool(threads), task: &readTask{buf: buf, sums: make([]uint64, threads)}}
	b.pool.Parallel(threads, b.task) // fault the pages in, warm the threads
	return b
}

// measure reads the buffer once and returns the bandwidth in bytes per
// second.
func (b *bandwidthProbe) measure() float64 {
	start := time.Now()
	b.pool.Parallel(len(b.task.sums), b.task)
	return float64(len(b.task.buf)) / time.Since(start).Seconds()
}

func (b *bandwidthProbe) close() { b.pool.Close() }

// readTask reads part i of a buffer split into parts; sums keeps each part's
// checksum, so that the reads have a use.
type readTask struct {
	buf  []byte
	sums []uint64
}

func (t *readTask) Run(lo, hi int) {
	share := len(t.buf) / len(t.sums)
	for i := lo; i < hi; i++ {
		end := (i + 1) * share
		if i == len(t.sums)-1 {
			end = len(t.buf)
		}
		t.sums[i] = kernels.ReadMemory(t.buf[i*share : end])
	}
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// diskSize is the size of a file, or of the files of a directory.
func diskSize(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// cpuName is the processor's model name where the system tells it.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
