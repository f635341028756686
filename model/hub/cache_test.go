package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pullFixture pulls a GGUF repository and an HF model into one cache and
// leaves an unfinished download in a third repository.
func pullFixture(t *testing.T) (*fakeHub, Options) {
	t.Helper()
	h := newFakeHub(t)
	h.addRepo("microsoft/bitnet-b1.58-2B-4T-gguf", map[string][]byte{"ggml-model-i2_s.gguf": randomBytes(20, 4096)})
	h.addRepo("org/hf-model", hfRepoFiles(t))
	h.addRepo("org/broken", map[string][]byte{"model.gguf": randomBytes(21, 10_000)})
	h.cuts[sha256Hex(randomBytes(21, 10_000))], h.cutAt = 1, 1000
	opts := h.options(t)
	ctx := context.Background()
	for _, ref := range []string{"bitnet-2b4t", "org/hf-model"} {
		r, err := ParseRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Pull(ctx, r, opts); err != nil {
			t.Fatal(err)
		}
	}
	o := opts
	o.Attempts = 1
	if _, err := Pull(ctx, Ref{Repo: "org/broken"}, o); err == nil {
		t.Fatal("the broken download succeeded")
	}
	return h, opts
}

func TestListAndRemove(t *testing.T) {
	_, opts := pullFixture(t)
	models, err := List(opts.CacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 3 {
		t.Fatalf("%d models listed: %+v", len(models), models)
	}
	byRepo := map[string]CachedModel{}
	for _, m := range models {
		byRepo[m.Repo] = m
	}
	g := byRepo["microsoft/bitnet-b1.58-2B-4T-gguf"]
	if g.Size != 4096 || g.Partial != 0 || filepath.Base(g.Path) != "ggml-model-i2_s.gguf" ||
		len(g.ShortNames) != 1 || g.ShortNames[0] != "bitnet-2b4t" || g.Commit != fakeCommit {
		t.Errorf("gguf entry %+v", g)
	}
	hf := byRepo["org/hf-model"]
	var want int64
	for _, f := range hf.Files {
		st, err := os.Stat(filepath.Join(hf.Dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		want += st.Size()
	}
	if hf.Path != hf.Dir || hf.Size != want || len(hf.Files) != 6 {
		t.Errorf("hf entry %+v (want size %d)", hf, want)
	}
	b := byRepo["org/broken"]
	if b.Size != 0 || b.Partial != 1000 || b.Path != "" {
		t.Errorf("broken entry %+v", b)
	}

	removed, err := Remove(opts.CacheDir, "bitnet-2b4t")
	if err != nil || removed.Repo != "microsoft/bitnet-b1.58-2B-4T-gguf" || removed.Size != 4096 {
		t.Fatalf("Remove(short name) = %+v, %v", removed, err)
	}
	if fileExists(removed.Dir) || fileExists(filepath.Dir(removed.Dir)) {
		t.Error("the repository (or its now empty owner) directory is still there")
	}
	if _, err := Remove(opts.CacheDir, "ORG/HF-MODEL"); err != nil {
		t.Errorf("Remove by id in another case: %v", err)
	}
	if _, err := Remove(opts.CacheDir, "org/hf-model"); !errors.Is(err, ErrNotCached) {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := Remove(opts.CacheDir, "not a name"); err == nil {
		t.Error("Remove accepted a bad name")
	}
	models, _ = List(opts.CacheDir)
	if len(models) != 1 || models[0].Repo != "org/broken" {
		t.Errorf("after removing: %+v", models)
	}
}

func TestListMissingCache(t *testing.T) {
	models, err := List(filepath.Join(t.TempDir(), "nothing"))
	if err != nil || len(models) != 0 {
		t.Errorf("List of a missing cache = %v, %v", models, err)
	}
}

func TestResolve(t *testing.T) {
	_, opts := pullFixture(t)
	cache := opts.CacheDir
	gguf := filepath.Join(cache, "microsoft", "bitnet-b1.58-2B-4T-gguf", "ggml-model-i2_s.gguf")
	local := filepath.Join(t.TempDir(), "my.gguf")
	os.WriteFile(local, []byte("x"), 0o644)
	cases := []struct{ arg, want string }{
		{local, local},
		{filepath.Dir(local), filepath.Dir(local)},
		{"bitnet-2b4t", gguf},
		{"BitNet-2B4T", gguf},
		{"microsoft/bitnet-b1.58-2B-4T-gguf", gguf},
		{"microsoft/BitNet-b1.58-2B-4T-gguf", gguf}, // the hub ignores case, so does the cache
		{"microsoft/bitnet-b1.58-2B-4T-gguf:ggml-model-i2_s.gguf", gguf},
		{"org/hf-model", filepath.Join(cache, "org", "hf-model")},
		{"org/hf-model:config.json", filepath.Join(cache, "org", "hf-model", "config.json")},
	}
	for _, c := range cases {
		got, err := Resolve(c.arg, cache)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", c.arg, got, err, c.want)
		}
	}
	errCases := []struct {
		arg  string
		is   error
		want []string
	}{
		{"bitnet-large", ErrNotCached, []string{"1bitLLM/bitnet_b1_58-large", "bitnet pull bitnet-large"}},
		{"org/other", ErrNotCached, []string{"bitnet pull org/other"}},
		{"org/hf-model:nope.bin", ErrNotCached, []string{"bitnet pull org/hf-model:nope.bin"}},
		{"org/broken", nil, []string{"no .gguf file"}},
		{"./missing.gguf", nil, []string{"no such file", "short name"}},
		{"", nil, []string{"no model"}},
	}
	for _, c := range errCases {
		_, err := Resolve(c.arg, cache)
		if err == nil {
			t.Errorf("Resolve(%q) succeeded", c.arg)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("Resolve(%q): %v does not wrap %v", c.arg, err, c.is)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Resolve(%q): %v does not mention %q", c.arg, err, w)
			}
		}
	}
}

func TestResolveAmbiguousGGUFs(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "org", "two")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "a.gguf"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "b.gguf"), nil, 0o644)
	_, err := Resolve("org/two", cache)
	if err == nil || !strings.Contains(err.Error(), "a.gguf, b.gguf") || !strings.Contains(err.Error(), "REPO:FILE") {
		t.Errorf("two GGUF files: %v", err)
	}
	if got, err := Resolve("org/two:b.gguf", cache); err != nil || got != filepath.Join(dir, "b.gguf") {
		t.Errorf("REPO:FILE = %q, %v", got, err)
	}
}
