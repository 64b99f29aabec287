package main

// These tests run the handlers against real redis-server processes on
// loopback (a master and a replica); they skip when redis-server is absent.

import (
	"context"
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

	"github.com/redis/go-redis/v9"
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
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		err := c.Ping(context.Background()).Err()
		_ = c.Close()
		if err == nil {
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis on %s did not start", addr)
	return ""
}

func newTestServer(t *testing.T, master, replica string) *httptest.Server {
	t.Helper()
	s := newServer(config{Master: master, Replica: replica, Key: "guestbook"})
	ts := httptest.NewServer(s.routes())
	t.Cleanup(func() { ts.Close(); s.close() })
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
	// Redis delays a replica's first full sync by 5 s by default, as long as this test waits for it.
	master := startRedis(t, "--repl-diskless-sync-delay", "0")
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

// A replica that takes the connection and never answers: what a read meets when the replica's pod is
// gone without a reset (its node failed, or it was evicted mid-request). The master must answer within the
// 2 s a drill's availability probe waits, or a read is an outage while the app could serve it.
func TestFallsBackToMasterWhenReplicaHangs(t *testing.T) {
	master := startRedis(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	ts := newTestServer(t, master, silent.Addr().String())
	if _, err := http.Post(ts.URL+"/entries", "application/json", strings.NewReader(`{"entry":"x"}`)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, source := getEntries(t, ts.URL)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the read took %s: a probe waiting 2 s gives up before the master's answer", took)
	}
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

// A Redis error reply means the replica answered: the guestbook reports it
// instead of hiding it behind a read from the master.
func TestReplyErrorIsNotAFallback(t *testing.T) {
	master := startRedis(t)
	replica := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: replica})
	defer c.Close()
	if err := c.Set(context.Background(), "guestbook", "not a list", 0).Err(); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, master, replica)
	resp, err := http.Get(ts.URL + "/entries")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(ReadFromHeader) != "replica" {
		t.Fatalf("WRONGTYPE on the replica: %s from %q", resp.Status, resp.Header.Get(ReadFromHeader))
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
