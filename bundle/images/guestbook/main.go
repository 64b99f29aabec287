// Command guestbook is labctl's guestbook frontend: writes go to the redis
// master, reads come from a redis replica, as in the classic Kubernetes
// guestbook (whose image cannot be pulled on an offline lab).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const (
	maxEntry     = 1000
	redisTimeout = 2 * time.Second
	// ReadFromHeader tells clients (and drills) which redis answered a read.
	ReadFromHeader = "X-Guestbook-Read-From"
)

type config struct {
	Port    string
	Master  string
	Replica string
	Key     string
}

func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// portEnv reads a port variable, tolerating Kubernetes service links, which
// set e.g. REDIS_MASTER_PORT=tcp://10.96.0.12:6379 for a service redis-master.
func portEnv(key, def string) string {
	v := getenv(key, def)
	if i := strings.LastIndex(v, ":"); strings.Contains(v, "://") && i >= 0 {
		return v[i+1:]
	}
	return v
}

func configFromEnv() config {
	port := portEnv("REDIS_PORT", "6379")
	return config{
		Port:    getenv("PORT", "80"),
		Master:  net.JoinHostPort(getenv("REDIS_MASTER_HOST", "redis-master"), portEnv("REDIS_MASTER_PORT", port)),
		Replica: net.JoinHostPort(getenv("REDIS_REPLICA_HOST", "redis-replica"), portEnv("REDIS_REPLICA_PORT", port)),
		Key:     getenv("GUESTBOOK_KEY", "guestbook"),
	}
}

type server struct{ cfg config }

func (s *server) do(addr string, args ...string) (any, error) {
	c, err := dialRedis(addr, redisTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(args...)
}

// entries reads from the replica, falling back to the master only when the
// replica cannot be reached; the second result names who answered.
func (s *server) entries() ([]string, string, error) {
	source := "replica"
	reply, err := s.do(s.cfg.Replica, "LRANGE", s.cfg.Key, "0", "-1")
	var netErr net.Error
	var opErr *net.OpError
	if err != nil && (errors.As(err, &opErr) || errors.As(err, &netErr)) {
		log.Printf("replica %s unreachable (%v), reading from master", s.cfg.Replica, err)
		source = "master-fallback"
		reply, err = s.do(s.cfg.Master, "LRANGE", s.cfg.Key, "0", "-1")
	}
	if err != nil {
		return nil, source, err
	}
	items, _ := reply.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if str, ok := it.(string); ok {
			out = append(out, str)
		}
	}
	return out, source, nil
}

func (s *server) add(entry string) error {
	_, err := s.do(s.cfg.Master, "RPUSH", s.cfg.Key, entry)
	return err
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Guestbook</title></head>
<body>
<h1>Guestbook</h1>
<form method="post" action="/entries">
<input name="entry" maxlength="1000" autofocus> <button type="submit">Sign</button>
</form>
{{if .Err}}<p><strong>error:</strong> {{.Err}}</p>{{end}}
<ul id="entries">{{range .Entries}}<li>{{.}}</li>{{end}}</ul>
<p><small>read from {{.Source}}</small></p>
</body></html>
`))

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *server) handleIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	entries, source, err := s.entries()
	w.Header().Set(ReadFromHeader, source)
	data := struct {
		Entries []string
		Source  string
		Err     string
	}{entries, source, ""}
	if err != nil {
		data.Err = err.Error()
		w.WriteHeader(http.StatusBadGateway)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, data)
}

func (s *server) handleEntries(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		entries, source, err := s.entries()
		w.Header().Set(ReadFromHeader, source)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, entries)
	case http.MethodPost:
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		entry, err := readEntry(r, isJSON)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := s.add(entry); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		if isJSON {
			writeJSON(w, http.StatusCreated, map[string]string{"entry": entry})
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

func readEntry(r *http.Request, isJSON bool) (string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 64*1024)
	var entry string
	if isJSON {
		var body struct {
			Entry string `json:"entry"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return "", errors.New("body must be JSON like {\"entry\": \"...\"}")
		}
		entry = body.Entry
	} else {
		if err := r.ParseForm(); err != nil {
			return "", err
		}
		entry = r.PostFormValue("entry")
	}
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return "", errors.New("entry is empty")
	}
	if len(entry) > maxEntry {
		return "", errors.New("entry is longer than 1000 bytes")
	}
	return entry, nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.handleIndex)
	mux.HandleFunc("/entries", s.handleEntries)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

func main() {
	cfg := configFromEnv()
	s := &server{cfg: cfg}
	addr := ":" + cfg.Port
	log.Printf("guestbook listening on %s (master %s, replica %s)", addr, cfg.Master, cfg.Replica)
	srv := &http.Server{Addr: addr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	// As PID 1 in its pod the process must handle SIGTERM itself, or pod
	// deletion waits out the grace period.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
