package hub

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/model/safetensors"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestPullGGUFRepo(t *testing.T) {
	h := newFakeHub(t)
	gguf := randomBytes(1, 300_000)
	h.addRepo("org/tiny-gguf", map[string][]byte{
		"README.md":            []byte("# tiny\n"),
		"ggml-model-i2_s.gguf": gguf,
		".gitattributes":       []byte("*.gguf filter=lfs\n"),
	})
	opts := h.options(t)
	opts.Token = h.token
	var progress, log bytes.Buffer
	opts.Progress, opts.Log = &progress, &log
	p, err := Pull(context.Background(), Ref{Repo: "org/tiny-gguf"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(opts.CacheDir, "org", "tiny-gguf", "ggml-model-i2_s.gguf")
	if p.Path != want || p.Downloaded != 1 || len(p.Files) != 1 {
		t.Fatalf("Path %q (want %q), downloaded %d, files %v", p.Path, want, p.Downloaded, p.Files)
	}
	if got, _ := os.ReadFile(p.Path); !bytes.Equal(got, gguf) {
		t.Fatal("downloaded bytes differ")
	}
	if fileExists(filepath.Join(p.Dir, "README.md")) {
		t.Error("README.md was downloaded for a GGUF pull")
	}
	if !strings.Contains(progress.String(), "ggml-model-i2_s.gguf") || !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress output %q", progress.String())
	}
	if !strings.Contains(log.String(), "downloaded") {
		t.Errorf("log %q", log.String())
	}
	// The token goes to the hub, never to the CDN.
	for _, r := range h.requestsTo("hub") {
		if r.auth != "Bearer "+h.token {
			t.Errorf("hub request %s without the token (%q)", r.path, r.auth)
		}
	}
	cdn := h.requestsTo("cdn")
	if len(cdn) != 1 {
		t.Fatalf("%d CDN requests, want 1", len(cdn))
	}
	if cdn[0].auth != "" {
		t.Errorf("token leaked to the CDN: %q", cdn[0].auth)
	}
	m := readManifest(p.Dir)
	if m.Commit != fakeCommit || m.Primary != "ggml-model-i2_s.gguf" || len(m.Files) != 1 || m.Files[0].SHA256 != sha256Hex(gguf) {
		t.Errorf("manifest %+v", m)
	}

	// A second pull finds the file verified and transfers nothing.
	p2, err := Pull(context.Background(), Ref{Repo: "org/tiny-gguf"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Downloaded != 0 || len(h.requestsTo("cdn")) != 1 {
		t.Errorf("second pull downloaded %d files, CDN requests %d", p2.Downloaded, len(h.requestsTo("cdn")))
	}
}

func TestPullPicksGGUF(t *testing.T) {
	h := newFakeHub(t)
	h.addRepo("org/many", map[string][]byte{
		"ggml-model-i2_s.gguf":  randomBytes(2, 1000),
		"ggml-model-tq2_0.gguf": randomBytes(3, 1200),
		"ggml-model-f16.gguf":   randomBytes(4, 4000),
	})
	h.addRepo("org/ambiguous", map[string][]byte{
		"a-q4.gguf": randomBytes(5, 100),
		"b-q8.gguf": randomBytes(6, 200),
	})
	opts := h.options(t)
	p, err := Pull(context.Background(), Ref{Repo: "org/many"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p.Path) != "ggml-model-i2_s.gguf" {
		t.Errorf("picked %s, want the I2_S file", p.Path)
	}
	p, err = Pull(context.Background(), Ref{Repo: "org/many", File: "ggml-model-tq2_0.gguf"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p.Path) != "ggml-model-tq2_0.gguf" {
		t.Errorf("REPO:FILE gave %s", p.Path)
	}
	_, err = Pull(context.Background(), Ref{Repo: "org/ambiguous"}, opts)
	if err == nil || !strings.Contains(err.Error(), "a-q4.gguf") || !strings.Contains(err.Error(), "b-q8.gguf") || !strings.Contains(err.Error(), "org/ambiguous:FILE") {
		t.Errorf("ambiguous repository: %v", err)
	}
}

// hfRepoFiles builds a sharded Hugging Face model: config, tokenizer, an
// index over two shards, plus files a pull must skip.
func hfRepoFiles(t *testing.T) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	shards := [][]safetensors.TensorData{
		{{Name: "model.embed_tokens.weight", DType: safetensors.BF16, Shape: []uint64{8, 4}, Data: safetensors.EncodeBF16(make([]float32, 32))}},
		{{Name: "model.layers.0.mlp.down_proj.weight", DType: safetensors.U8, Shape: []uint64{1, 8}, Data: randomBytes(7, 8)},
			{Name: "model.layers.0.mlp.down_proj.weight_scale", DType: safetensors.BF16, Shape: []uint64{1}, Data: safetensors.EncodeBF16([]float32{0.5})}},
	}
	if err := safetensors.WriteSharded(dir, shards, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"config.json":              []byte(`{"architectures":["BitNetForCausalLM"]}`),
		"tokenizer.json":           []byte(`{"model":{}}`),
		"tokenizer_config.json":    []byte(`{}`),
		"README.md":                []byte("readme"),
		"consolidated.safetensors": randomBytes(8, 5000), // not in the index: skipped
		"onnx/model.onnx":          randomBytes(9, 100),
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func TestPullShardedHFModel(t *testing.T) {
	h := newFakeHub(t)
	h.pageSize = 3 // force several listing pages
	files := hfRepoFiles(t)
	h.addRepo("org/hf-model", files)
	opts := h.options(t)
	p, err := Pull(context.Background(), Ref{Repo: "org/hf-model"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path != p.Dir {
		t.Errorf("Path %q, want the directory %q", p.Path, p.Dir)
	}
	var got []string
	for _, f := range p.Files {
		rel, _ := filepath.Rel(p.Dir, f)
		got = append(got, rel)
	}
	sort.Strings(got)
	want := []string{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
		safetensors.IndexFileName, "tokenizer.json", "tokenizer_config.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pulled %v, want %v", got, want)
	}
	for _, name := range want {
		b, err := os.ReadFile(filepath.Join(p.Dir, name))
		if err != nil || !bytes.Equal(b, files[name]) {
			t.Errorf("%s differs from the hub's copy (%v)", name, err)
		}
	}
	m, err := safetensors.OpenDir(p.Dir)
	if err != nil {
		t.Fatalf("the pulled directory does not open as a model: %v", err)
	}
	defer m.Close()
	if _, ok := m.Tensor("model.layers.0.mlp.down_proj.weight_scale"); !ok {
		t.Error("tensor missing from the pulled model")
	}
	if r, err := Resolve("org/hf-model", opts.CacheDir); err != nil || r != p.Dir {
		t.Errorf("Resolve = %q, %v", r, err)
	}
}

func TestPullResumesAfterDroppedConnection(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(10, 1<<20)
	h.addRepo("org/big", map[string][]byte{"model.gguf": content})
	sum := sha256Hex(content)
	h.cuts[sum], h.cutAt = 2, 300_000 // the first two attempts break
	opts := h.options(t)
	var log bytes.Buffer
	opts.Log = &log
	p, err := Pull(context.Background(), Ref{Repo: "org/big"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p.Path); sha256Hex(got) != sum {
		t.Fatal("resumed download has the wrong content")
	}
	cdn := h.requestsTo("cdn")
	wantRanges := []string{"", "bytes=300000-", "bytes=600000-"}
	if len(cdn) != len(wantRanges) {
		t.Fatalf("%d CDN requests, want %d", len(cdn), len(wantRanges))
	}
	for i, r := range cdn {
		if r.rangeHdr != wantRanges[i] {
			t.Errorf("request %d Range %q, want %q", i, r.rangeHdr, wantRanges[i])
		}
	}
	if !strings.Contains(log.String(), "retrying") {
		t.Errorf("log does not mention the retries: %q", log.String())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(p.Dir, "*"+partialSuffix)); len(leftovers) != 0 {
		t.Errorf("partial files left: %v", leftovers)
	}
}

func TestPullResumesAcrossRuns(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(11, 500_000)
	h.addRepo("org/big", map[string][]byte{"model.gguf": content})
	sum := sha256Hex(content)
	h.cuts[sum], h.cutAt = 1, 123_456
	opts := h.options(t)
	opts.Attempts = 1
	_, err := Pull(context.Background(), Ref{Repo: "org/big"}, opts)
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("first pull: %v, want a network error", err)
	}
	partials, _ := filepath.Glob(filepath.Join(opts.CacheDir, "org", "big", "model.gguf.*"+partialSuffix))
	if len(partials) != 1 {
		t.Fatalf("partial files %v", partials)
	}
	if st, _ := os.Stat(partials[0]); st.Size() != 123_456 {
		t.Fatalf("partial holds %d bytes, want 123456", st.Size())
	}
	if fileExists(filepath.Join(opts.CacheDir, "org", "big", "model.gguf")) {
		t.Fatal("an incomplete file was put in place")
	}
	p, err := Pull(context.Background(), Ref{Repo: "org/big"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p.Path); !bytes.Equal(got, content) {
		t.Fatal("content differs after resuming")
	}
	cdn := h.requestsTo("cdn")
	if last := cdn[len(cdn)-1]; last.rangeHdr != "bytes=123456-" {
		t.Errorf("second pull sent Range %q", last.rangeHdr)
	}
}

func TestPullRestartsWhenServerIgnoresRange(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(12, 200_000)
	h.addRepo("org/big", map[string][]byte{"model.gguf": content})
	h.cuts[sha256Hex(content)], h.cutAt = 1, 50_000
	h.ignoreRange = true
	p, err := Pull(context.Background(), Ref{Repo: "org/big"}, h.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p.Path); !bytes.Equal(got, content) {
		t.Fatal("content differs after a 200 answer to a Range request")
	}
}

func TestPullRejectsChecksumMismatch(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(13, 100_000)
	h.addRepo("org/bad", map[string][]byte{"model.gguf": content})
	h.corrupt[sha256Hex(content)] = true
	opts := h.options(t)
	_, err := Pull(context.Background(), Ref{Repo: "org/bad"}, opts)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), sha256Hex(content)) {
		t.Fatalf("corrupt download: %v", err)
	}
	dir := filepath.Join(opts.CacheDir, "org", "bad")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != manifestName {
			t.Errorf("%s left in the cache after a failed verification", e.Name())
		}
	}
}

func TestPullVerifiesSmallFilesByGitOID(t *testing.T) {
	h := newFakeHub(t)
	config := []byte(`{"architectures":["LlamaForCausalLM"]}`)
	h.addRepo("org/m", map[string][]byte{"config.json": config, "model.safetensors": randomBytes(14, 64)})
	h.corrupt[gitOID(config)] = true
	opts := h.options(t)
	_, err := Pull(context.Background(), Ref{Repo: "org/m"}, opts)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "git blob id of config.json") {
		t.Fatalf("corrupt config.json: %v", err)
	}
	if fileExists(filepath.Join(opts.CacheDir, "org", "m", "config.json")) {
		t.Error("the corrupt config.json was put in place")
	}
	delete(h.corrupt, gitOID(config))
	if _, err := Pull(context.Background(), Ref{Repo: "org/m"}, opts); err != nil {
		t.Fatalf("after the fault is gone: %v", err)
	}
}

func TestPullErrors(t *testing.T) {
	h := newFakeHub(t)
	h.addRepo("org/public", map[string][]byte{"model.gguf": randomBytes(15, 100), "README.md": []byte("hi")})
	h.addRepo("org/private", map[string][]byte{"model.gguf": randomBytes(16, 100)}).private = true
	h.addRepo("meta/gated", map[string][]byte{"model.gguf": randomBytes(17, 100)}).gated = true
	h.addRepo("org/nothing", map[string][]byte{"README.md": []byte("hi")})
	cases := []struct {
		name  string
		ref   Ref
		token string
		is    error
		want  []string
	}{
		{"missing repo without token", Ref{Repo: "org/missing"}, "", ErrNotFound, []string{"401", "org/missing", "HF_TOKEN", "private or gated"}},
		{"missing repo with token", Ref{Repo: "org/missing"}, h.token, ErrNotFound, []string{"404", "org/missing", "not found"}},
		{"private without token", Ref{Repo: "org/private"}, "", ErrAccess, []string{"401", "HF_TOKEN"}},
		{"private with a wrong token", Ref{Repo: "org/private"}, "hf_wrong", ErrAccess, []string{"401", "token in HF_TOKEN is invalid"}},
		{"gated", Ref{Repo: "meta/gated"}, h.token, ErrAccess, []string{"403", "gated", "meta/gated", "HF_TOKEN"}},
		{"missing file", Ref{Repo: "org/public", File: "nope.gguf"}, "", ErrNotFound, []string{"nope.gguf", "model.gguf", "README.md"}},
		{"no weights", Ref{Repo: "org/nothing"}, "", ErrNotFound, []string{"neither a GGUF file nor a config.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := h.options(t)
			opts.Token = c.token
			_, err := Pull(context.Background(), c.ref, opts)
			if !errors.Is(err, c.is) {
				t.Errorf("error %v does not wrap %v", err, c.is)
			}
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("missing revision", func(t *testing.T) {
		opts := h.options(t)
		opts.Revision = "refs/pr/7"
		_, err := Pull(context.Background(), Ref{Repo: "org/public"}, opts)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `revision "refs/pr/7"`) {
			t.Errorf("missing revision: %v", err)
		}
	})
	t.Run("private with token", func(t *testing.T) {
		opts := h.options(t)
		opts.Token = h.token
		if _, err := Pull(context.Background(), Ref{Repo: "org/private"}, opts); err != nil {
			t.Errorf("private repository with the token: %v", err)
		}
	})
}

func TestPullNetworkError(t *testing.T) {
	h := newFakeHub(t)
	opts := h.options(t)
	h.hub.Close() // nothing listens there any more
	_, err := Pull(context.Background(), Ref{Repo: "org/any"}, opts)
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "cannot reach "+opts.Endpoint) || !strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Errorf("unreachable hub: %v", err)
	}
}

func TestPullCancelKeepsPartial(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(18, 400_000)
	h.addRepo("org/slow", map[string][]byte{"model.gguf": content})
	h.stall[sha256Hex(content)] = true // half the file, then silence
	opts := h.options(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first half has arrived and the server went silent.
	go func() {
		pattern := filepath.Join(opts.CacheDir, "org", "slow", "*"+partialSuffix)
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(pattern); len(m) == 1 {
				if st, err := os.Stat(m[0]); err == nil && st.Size() == int64(len(content)/2) {
					cancel()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := Pull(ctx, Ref{Repo: "org/slow"}, opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "pull again to resume") {
		t.Fatalf("cancelled pull: %v", err)
	}
	partials, _ := filepath.Glob(filepath.Join(opts.CacheDir, "org", "slow", "*"+partialSuffix))
	if len(partials) != 1 {
		t.Fatalf("partials %v", partials)
	}
	if st, _ := os.Stat(partials[0]); st.Size() != int64(len(content)/2) {
		t.Errorf("partial holds %d bytes, want %d", st.Size(), len(content)/2)
	}
	if len(h.requestsTo("cdn")) != 1 {
		t.Errorf("%d CDN requests after cancelling, want 1 (no retry)", len(h.requestsTo("cdn")))
	}
}

func TestPullRetriesStalledDownload(t *testing.T) {
	h := newFakeHub(t)
	content := randomBytes(19, 100_000)
	h.addRepo("org/stall", map[string][]byte{"model.gguf": content})
	h.stall[sha256Hex(content)] = true
	opts := h.options(t)
	opts.StallTimeout = 50 * time.Millisecond
	opts.Attempts = 2
	var log bytes.Buffer
	opts.Log = &log
	_, err := Pull(context.Background(), Ref{Repo: "org/stall"}, opts)
	if !errors.Is(err, errStalled) || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("stalled download: %v", err)
	}
	if cdn := h.requestsTo("cdn"); len(cdn) != 2 || cdn[1].rangeHdr != "bytes=50000-" {
		t.Errorf("CDN requests %+v, want a resumed second attempt", cdn)
	}
}

func TestPullRejectsBadListedPath(t *testing.T) {
	h := newFakeHub(t)
	h.addRepo("org/evil", map[string][]byte{"../../escape.gguf": []byte("x")})
	_, err := Pull(context.Background(), Ref{Repo: "org/evil"}, h.options(t))
	if err == nil || !strings.Contains(err.Error(), "bad path") {
		t.Errorf("traversal path in the listing: %v", err)
	}
}

// BenchmarkPull measures a whole pull of a 64 MiB file over loopback:
// listing, redirect, copy to disk, sha256 verification and rename.
func BenchmarkPull(b *testing.B) {
	h := newFakeHub(b)
	content := randomBytes(40, 64<<20)
	h.addRepo("org/bench", map[string][]byte{"model.gguf": content})
	cache := b.TempDir()
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		os.RemoveAll(filepath.Join(cache, "org"))
		if _, err := Pull(context.Background(), Ref{Repo: "org/bench"}, Options{Endpoint: h.hub.URL, CacheDir: cache}); err != nil {
			b.Fatal(err)
		}
	}
}
