package repl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/models"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// The tests in this package that drive the real bitnet binary use one build
// of it, made by TestMain, and models made from the one embedded in bitnet
// (models.DefaultFile, 256-token context), so that they run in a lone clone
// of the repository: the model as it is (no chat template: completion
// mode), a copy whose tokenizer carries a Llama 2 chat template (chat mode),
// and a copy of that which never ends its turn. None of them needs the
// golden data of ../shared.
var (
	binary      string // the bitnet binary built for the tests
	baseModel   string // the embedded model's file: a base model without a chat template
	chatModel   string // the same with a Llama 2 chat template
	endlessChat string // chatModel whose end-of-text token is a normal token, not a stop
)

// llama2TemplateSource is enough of a Llama 2 chat template for
// chat.Detect to recognise it.
const llama2TemplateSource = `{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>\n{{ m['content'] }}\n<</SYS>>{% elif m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{% endif %}{% endfor %}`

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bitnet-repl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binary = filepath.Join(dir, "bitnet")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bitnet: %v\n%s", err, out)
		return 1
	}
	baseModel = filepath.Join(root, "models", models.DefaultFile)
	chatModel = filepath.Join(dir, "chat.gguf")
	endlessChat = filepath.Join(dir, "endless.gguf")
	if err := withChatTemplate(baseModel, chatModel, llama2TemplateSource); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := withoutEndOfText(chatModel, endlessChat); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// withChatTemplate copies the GGUF file src to dst with
// tokenizer.chat_template set to template. A bitnet-b1.58 model (the
// embedded one) is written as the equivalent "bitnet" architecture with
// the ReLU² key, the form of the shared test models: chat.ForModel gives
// the bitnet-b1.58 architectures BitNet's own chat format whatever
// template their file names.
func withChatTemplate(src, dst, template string) error {
	f, err := readGGUF(src)
	if err != nil {
		return err
	}
	set := map[string]any{"tokenizer.chat_template": template}
	rename := map[string]string{}
	if arch, _ := f.String("general.architecture"); arch == "bitnet-b1.58" {
		set["general.architecture"] = "bitnet"
		set["bitnet.hidden_activation"] = "relu2"
		for _, kv := range f.KVs {
			if rest, ok := strings.CutPrefix(kv.Key, arch+"."); ok {
				rename[kv.Key] = "bitnet." + rest
			}
		}
	}
	return rewriteGGUF(f, dst, rename, set)
}

// withoutEndOfText copies the GGUF file src to dst with its end-of-text
// token made a normal token and BOS named as EOS in its place, so that
// nothing the model writes ends its turn: the model then answers until the
// token limit or the context window stops it.
func withoutEndOfText(src, dst string) error {
	f, err := readGGUF(src)
	if err != nil {
		return err
	}
	eos, ok1 := f.Int("tokenizer.ggml.eos_token_id")
	bos, ok2 := f.Int("tokenizer.ggml.bos_token_id")
	types, ok3 := f.Ints("tokenizer.ggml.token_type")
	if !ok1 || !ok2 || !ok3 || eos < 0 || eos >= int64(len(types)) {
		return fmt.Errorf("%s: no EOS, BOS or token types", src)
	}
	newTypes := make([]int32, len(types))
	for i, v := range types {
		newTypes[i] = int32(v)
	}
	newTypes[eos] = int32(tokenizer.TypeNormal)
	return copyGGUF(src, dst, map[string]any{
		"tokenizer.ggml.token_type":   newTypes,
		"tokenizer.ggml.eos_token_id": uint32(bos),
	})
}

// copyGGUF copies the GGUF file src to dst with the metadata in set added
// or replaced.
func copyGGUF(src, dst string, set map[string]any) error {
	f, err := readGGUF(src)
	if err != nil {
		return err
	}
	return rewriteGGUF(f, dst, nil, set)
}

// readGGUF reads and parses the GGUF file at path.
func readGGUF(path string) (*gguf.File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := gguf.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return f, nil
}

// rewriteGGUF writes f to dst with the metadata keys in rename renamed and
// the metadata in set added or replaced.
func rewriteGGUF(f *gguf.File, dst string, rename map[string]string, set map[string]any) error {
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		key := kv.Key
		if to, ok := rename[key]; ok {
			key = to
		}
		w.AddKV(key, kv.Value.Any())
	}
	// AddKV replaces a key in place; new keys go last, sorted.
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.AddKV(k, set[k])
	}
	for _, t := range f.Tensors {
		w.AddTensor(t.Name, t.Type, t.Dims, t.Data)
	}
	return w.WriteFile(dst)
}

// result is what a run of the binary produced.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs bitnet with stdin and args, without a terminal.
func runBinary(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t.TempDir(), "NO_COLOR=1")
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run bitnet %v: %v", args, err)
	}
	r := result{code, out.String(), errb.String()}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("bitnet %v crashed:\n%s", args, r.stderr)
	}
	return r
}

// testEnv is the environment of a bitnet run: home as the home directory
// and home/state as the state directory, so tests never read or write the
// user's history, plus extra.
func testEnv(home string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"TERM=xterm",
	}
	return append(env, extra...)
}
