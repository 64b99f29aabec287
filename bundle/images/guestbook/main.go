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

	"github.com/redis/go-redis/v9"
)

const (
	maxEntry     = 1000
	redisTimeout = 2 * time.Second
	// A replica read on the cluster network takes a millisecond. Past this, the replica is taken as
	// gone (its pod evicted or its node down, with no reset to say so) and the master answers,
	// still inside the 2 s a drill's availability probe waits.
	replicaTimeout = 300 * time.Millisecond
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

type server struct {
	cfg     config
	master  *redis.Client
	replica *redis.Client
}

func newRedisClient(addr string, timeout time.Duration) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         addr,
		DialTimeout:  timeout,
		ReadTimeout:  timeout,
		WriteTimeout: timeout,
		// No retries: an unreachable replica must fall back to the master at
		// once, and a drill's availability probe must see a failed write as it
		// happens instead of after a backoff.
		MaxRetries: -1,
		// CLIENT SETINFO is one more round trip per connection for nothing the
		// guestbook needs.
		DisableIdentity: true,
	})
}

func newServer(cfg config) *server {
	return &server{cfg: cfg, master: newRedisClient(cfg.Master, redisTimeout), replica: newRedisClient(cfg.Replica, replicaTimeout)}
}

func (s *server) close() {
	_ = s.master.Close()
	_ = s.replica.Close()
}

// isReply tells a Redis error reply (the server answered) from a failure to
// reach the server at all.
func isReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// entries reads from the replica, falling back to the master only when the
// replica cannot be reached; the second result names who answered.
func (s *server) entries(ctx context.Context) ([]string, string, error) {
	source := "replica"
	out, err := s.replica.LRange(ctx, s.cfg.Key, 0, -1).Result()
	if err != nil && !isReply(err) {
		log.Printf("replica %s unreachable (%v), reading from master", s.cfg.Replica, err)
		source = "master-fallback"
		out, err = s.master.LRange(ctx, s.cfg.Key, 0, -1).Result()
	}
	if err != nil {
		return nil, source, err
	}
	return out, source, nil
}

func (s *server) add(ctx context.Context, entry string) error {
	return s.master.RPush(ctx, s.cfg.Key, entry).Err()
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
	entries, source, err := s.entries(r.Context())
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
		entries, source, err := s.entries(r.Context())
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
		if err := s.add(r.Context(), entry); err != nil {
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
	s := newServer(cfg)
	defer s.close()
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
