package main

// These tests run the handlers against real redis-server processes on
// loopback (a master and a replica); they skip when redis-server is absent.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (apt-get install redis-server)")
	}
	port := freePort(t)
	all := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + port
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := dialRedis(addr, time.Second); err == nil {
			if r, err := c.Do("PING"); err == nil && r == "PONG" {
				c.Close()
				return addr
			}
			c.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis on %s did not start", addr)
	return ""
}

func newTestServer(t *testing.T, master, replica string) *httptest.Server {
	t.Helper()
	s := &server{cfg: config{Master: master, Replica: replica, Key: "guestbook"}}
	ts := httptest.NewServer(s.routes())
	t.Cleanup(ts.Close)
	return ts
}

func getEntries(t *testing.T, base string) ([]string, string) {
	t.Helper()
	resp, err := http.Get(base + "/entries")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /entries: %s", resp.Status)
	}
	var out []string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, resp.Header.Get(ReadFromHeader)
}

func TestWriteToMasterReadFromReplica(t *testing.T) {
	master := startRedis(t)
	_, mport, _ := net.SplitHostPort(master)
	replica := startRedis(t, "--replicaof", "127.0.0.1", mport)
	ts := newTestServer(t, master, replica)

	resp, err := http.Post(ts.URL+"/entries", "application/json", strings.NewReader(`{"entry":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST json: %s", resp.Status)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.PostForm(ts.URL+"/entries", url.Values{"entry": {"<b>world</b>"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST form: %s", resp.Status)
	}

	var got []string
	var source string
	for i := 0; i < 50; i++ {
		got, source = getEntries(t, ts.URL)
		if len(got) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fmt.Sprint(got) != "[hello <b>world</b>]" || source != "replica" {
		t.Fatalf("entries %q from %q", got, source)
	}

	resp, err = http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if !strings.Contains(body.String(), "&lt;b&gt;world&lt;/b&gt;") || !strings.Contains(body.String(), "<form") {
		t.Fatalf("index page does not list the escaped entry:\n%s", body.String())
	}
}

func TestFallsBackToMasterWhenReplicaDown(t *testing.T) {
	master := startRedis(t)
	ts := newTestServer(t, master, "127.0.0.1:"+freePort(t))
	if _, err := http.Post(ts.URL+"/entries", "application/json", strings.NewReader(`{"entry":"x"}`)); err != nil {
		t.Fatal(err)
	}
	got, source := getEntries(t, ts.URL)
	if len(got) != 1 || source != "master-fallback" {
		t.Fatalf("entries %q from %q", got, source)
	}
}

func TestRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, "127.0.0.1:1", "127.0.0.1:1")
	for _, body := range []string{`{"entry":""}`, `not json`} {
		resp, err := http.Post(ts.URL+"/entries", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("body %q: %s", body, resp.Status)
		}
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestRESPDecoding(t *testing.T) {
	master := startRedis(t)
	c, err := dialRedis(master, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Do("GET", "missing"); err != nil || v != nil {
		t.Fatalf("nil bulk: %v %v", v, err)
	}
	if v, err := c.Do("INCR", "n"); err != nil || v != int64(1) {
		t.Fatalf("integer: %v %v", v, err)
	}
	if _, err := c.Do("NOSUCHCOMMAND"); err == nil {
		t.Fatal("want a RESP error")
	}
}

func TestConfigToleratesServiceLinkVariables(t *testing.T) {
	t.Setenv("REDIS_MASTER_PORT", "tcp://10.96.0.12:6380")
	t.Setenv("REDIS_REPLICA_HOST", "replica.example")
	cfg := configFromEnv()
	if cfg.Master != "redis-master:6380" || cfg.Replica != "replica.example:6379" || cfg.Port != "80" {
		t.Fatalf("config %+v", cfg)
	}
}
