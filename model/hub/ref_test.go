package hub

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	good := []struct {
		in   string
		want Ref
	}{
		{"bitnet-2b4t", Ref{"microsoft/bitnet-b1.58-2B-4T-gguf", "ggml-model-i2_s.gguf"}},
		{"bitnet-large", Ref{"1bitLLM/bitnet_b1_58-large", ""}},
		{"owner/name", Ref{"owner/name", ""}},
		{"owner/name:sub/dir/file.gguf", Ref{"owner/name", "sub/dir/file.gguf"}},
		{"tiiuae/Falcon3-1B-Instruct-1.58bit", Ref{"tiiuae/Falcon3-1B-Instruct-1.58bit", ""}},
	}
	for _, c := range good {
		got, err := ParseRef(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if c.want.File == "" && got.String() != c.want.Repo {
			t.Errorf("String() = %q", got.String())
		}
	}
	bad := []string{"", "name-only", "a/b/c", "/name", "owner/", "own er/name", "owner/-name", "owner/name.",
		"owner/na--me", "owner/na..me", "owner/name:../up", "owner/name:/abs", "owner/name:a//b", "owner/name:dir/",
		"owner/name:" + manifestName, "owner/name:x.gguf" + partialSuffix, "o/" + strings.Repeat("n", 97)}
	for _, in := range bad {
		if r, err := ParseRef(in); err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error", in, r)
		}
	}
}

func TestShortNames(t *testing.T) {
	seen := map[string]bool{}
	for _, sn := range ShortNames {
		if seen[strings.ToLower(sn.Name)] {
			t.Errorf("short name %s twice", sn.Name)
		}
		seen[strings.ToLower(sn.Name)] = true
		if err := ValidRepoID(sn.Repo); err != nil {
			t.Errorf("%s: %v", sn.Name, err)
		}
		if sn.File != "" {
			if err := validRepoPath(sn.File); err != nil {
				t.Errorf("%s: %v", sn.Name, err)
			}
		}
		if strings.Contains(sn.Name, "/") || strings.Contains(sn.Name, ":") {
			t.Errorf("short name %q could be read as a repository id", sn.Name)
		}
	}
	for _, name := range []string{"bitnet-2b4t", "bitnet-2b4t-hf", "bitnet-2b4t-bf16", "bitnet-large", "bitnet-3b", "llama3-8b-1.58", "falcon3-1b-1.58"} {
		if _, ok := LookupShortName(name); !ok {
			t.Errorf("short name %s missing", name)
		}
	}
}

func TestNextLink(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{`<https://hub/api/x?cursor=abc>; rel="next"`}, "https://hub/api/x?cursor=abc"},
		{[]string{`<https://a>; rel="prev", <https://b>; rel="next"`}, "https://b"},
		{[]string{`<https://a>; rel=prev`, `<https://b>; rel=next`}, "https://b"},
		{[]string{`https://a; rel="next"`}, ""},
	}
	for _, c := range cases {
		if got := nextLink(c.in); got != c.want {
			t.Errorf("nextLink(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes 5-9", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, c := range cases {
		s, tot, ok := parseContentRange(c.in)
		if ok != c.ok || (ok && (s != c.start || tot != c.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", c.in, s, tot, ok)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cases := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1187801280: "1.1 GiB", 5 << 40: "5.0 TiB"}
	for n, want := range cases {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
